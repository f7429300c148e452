"""SimRenew (流量卡续费云): domain rules, services and adapters shared by every function."""

import sys as _sys

# botocore tries `urllib3.contrib.pyopenssl` at import and, where pyOpenSSL is installed (the
# Alipay SDK requires it), loads OpenSSL and cryptography's X.509 for a context it never uses
# (it takes the standard library's SSLContext: `orig_util_SSLContext`). Marking the module absent
# makes botocore take its documented fallback, the same standard SSLContext, without that import.
_sys.modules.setdefault("urllib3.contrib.pyopenssl", None)  # type: ignore[arg-type]
