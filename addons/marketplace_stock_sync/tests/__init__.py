from . import test_stock_events
from . import test_security
from . import test_constraints
from . import test_config_events
from . import test_quant_events
