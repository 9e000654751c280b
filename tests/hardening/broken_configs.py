"""A corpus of broken bridge configs: (name, TOML text, what the error line must name).

Each starts from a config that would be valid (ERP on a closed port, so nothing can
connect) and breaks one thing. Every secret in the texts contains SECRET_MARK, so a test
can check that none is ever echoed."""

from __future__ import annotations

SECRET_MARK = "zz-secret-"

ERP_OK = '[erp]\nurl = "http://127.0.0.1:{port}"\ndatabase = "db"\nusername = "u"\npassword = "zz-secret-pw1"\n'
BRIDGE_OK = '[bridge]\nstate_path = "{state}"\nlisten = "127.0.0.1:0"\nwebhook_secret = "zz-secret-hook"\n'
SHOPEE_OK = {
    "marketplace": '"shopee"', "base_url": '"https://partner.example.com"', "partner_id": '"1001"',
    "partner_key": '"zz-secret-pk"', "shop_id": '"2002"', "access_token": '"zz-secret-at"',
    "refresh_token": '"zz-secret-rt"',
}


def channel(code: str, keys: dict[str, str]) -> str:
    return f"[channels.{code}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())


def shopee(**change: str | None) -> str:
    keys = {**SHOPEE_OK, **{k: v for k, v in change.items() if v is not None}}
    for k, v in change.items():
        if v is None:
            keys.pop(k, None)
    return ERP_OK + BRIDGE_OK + channel("shopee_my", keys)


def erp(**change: str | None) -> str:
    lines = {"url": '"http://127.0.0.1:{port}"', "database": '"db"', "username": '"u"', "password": '"zz-secret-pw1"'}
    for k, v in change.items():
        if v is None:
            lines.pop(k, None)
        else:
            lines[k] = v
    return "[erp]\n" + "".join(f"{k} = {v}\n" for k, v in lines.items()) + BRIDGE_OK


def bridge(**change: str) -> str:
    return ERP_OK + BRIDGE_OK + "".join(f"{k} = {v}\n" for k, v in change.items())


def amazon(**change: str | None) -> str:
    keys = {
        "marketplace": '"amazon"', "base_url": '"https://sellingpartnerapi-eu.amazon.com"', "seller_id": '"S1"',
        "marketplace_id": '"A1PA6795UKMFR9"', "client_id": '"cid"', "client_secret": '"zz-secret-cs"',
        "refresh_token": '"zz-secret-rt2"',
    }
    for k, v in change.items():
        if v is None:
            keys.pop(k, None)
        else:
            keys[k] = v
    return ERP_OK + BRIDGE_OK + channel("amazon_de", keys)


CORPUS: list[tuple[str, str, str]] = [
    # the file itself
    ("not_toml", "this is = = not toml\n", "TOML"),
    ("erp_is_a_string", 'erp = "http://x"\n' + BRIDGE_OK, "erp"),
    ("erp_missing", BRIDGE_OK, "erp"),
    ("bridge_is_a_list", ERP_OK + 'bridge = [1, 2]\n', "bridge"),
    ("channels_is_a_string", ERP_OK + BRIDGE_OK + 'channels = "x"\n', "channels"),
    ("unknown_top_key", ERP_OK + BRIDGE_OK + 'colour = "blue"\n', "colour"),
    # [erp]
    ("erp_url_ftp", erp(url='"ftp://127.0.0.1:21"'), "erp.url"),
    ("erp_url_no_scheme", erp(url='"127.0.0.1:8069"'), "erp.url"),
    ("erp_url_empty", erp(url='""'), "erp.url"),
    ("erp_url_port_out_of_range", erp(url='"http://127.0.0.1:99999"'), "erp.url"),
    ("erp_url_not_a_string", erp(url="8069"), "erp.url"),
    ("erp_password_empty", erp(password='""'), "erp.password"),
    ("erp_no_secret", erp(password=None), "erp"),
    ("erp_api_key_empty", erp(password=None, api_key='""'), "erp.api_key"),
    ("erp_protocol_unknown", erp(protocol='"soap"'), "erp.protocol"),
    ("erp_timeout_zero", erp(timeout_s="0"), "erp.timeout_s"),
    ("erp_timeout_negative", erp(timeout_s="-3"), "erp.timeout_s"),
    ("erp_timeout_text", erp(timeout_s='"soon"'), "erp.timeout_s"),
    ("erp_database_empty", erp(database='""'), "erp.database"),
    ("erp_page_size_zero", erp(page_size="0"), "erp.page_size"),
    ("erp_unknown_key", erp(colour='"red"'), "erp.colour"),
    # [bridge]
    ("listen_port_out_of_range", bridge().replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1:70000"'), "bridge.listen"),
    ("listen_no_port", bridge().replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1"'), "bridge.listen"),
    ("listen_port_text", bridge().replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1:http"'), "bridge.listen"),
    ("webhook_secret_empty", bridge().replace('webhook_secret = "zz-secret-hook"', 'webhook_secret = ""'), "bridge.webhook_secret"),
    ("automation_token_empty", bridge(automation_token='""'), "bridge.automation_token"),
    ("poll_interval_zero", bridge(poll_interval_s="0"), "bridge.poll_interval_s"),
    ("full_resync_negative", bridge(full_resync_interval_s="-1"), "bridge.full_resync_interval_s"),
    ("retry_interval_zero", bridge(retry_interval_s="0"), "bridge.retry_interval_s"),
    ("drift_audit_zero", bridge(drift_audit_interval_s="0"), "bridge.drift_audit_interval_s"),
    ("coalesce_negative", bridge(coalesce_ms="-1"), "bridge.coalesce_ms"),
    ("retention_zero", bridge(journal_retention_days="0"), "bridge.journal_retention_days"),
    ("max_body_tiny", bridge(max_body_bytes="10"), "bridge.max_body_bytes"),
    ("bridge_unknown_key", bridge(colour='"red"'), "bridge.colour"),
    # channels whose marketplace the file names
    ("channel_marketplace_unknown", shopee(marketplace='"nosuchplace"'), "shopee_my"),
    ("channel_marketplace_bad_name", shopee(marketplace='"Shop Ee!"'), "marketplace"),
    ("channel_base_url_missing", shopee(base_url=None), "base_url"),
    ("channel_base_url_not_url", shopee(base_url='"not a url"'), "base_url"),
    ("channel_base_url_ftp", shopee(base_url='"ftp://partner.example.com"'), "base_url"),
    ("channel_token_url_not_url", shopee(token_url='"nowhere"'), "token_url"),
    ("channel_partner_id_not_numeric", shopee(partner_id='"abc"'), "partner_id"),
    ("channel_shop_id_not_numeric", shopee(shop_id='"12x"'), "shop_id"),
    ("channel_partner_key_empty", shopee(partner_key='""'), "partner_key"),
    ("channel_access_token_missing", shopee(access_token=None), "access_token"),
    ("channel_unknown_key", shopee(colour='"red"'), "colour"),
    ("channel_key_is_a_table", shopee(partner_id="{ a = 1 }"), "partner_id"),
    ("channel_rate_zero", shopee(rate_per_s="0"), "rate_per_s"),
    ("channel_buffer_negative", shopee(buffer_qty="-1"), "buffer_qty"),
    ("channel_enabled_text", shopee(enabled='"maybe"'), "enabled"),
    ("amazon_client_secret_empty", amazon(client_secret='""'), "client_secret"),
    ("amazon_seller_missing", amazon(seller_id=None), "seller_id"),
    ("amazon_base_url_no_host", amazon(base_url='"https://"'), "base_url"),
]
