"""SimRenew (流量卡续费云): domain rules, services and adapters shared by every function."""
