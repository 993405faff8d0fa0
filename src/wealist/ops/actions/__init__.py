"""The ops service's logic, framework-free: portal access and users, audit log, configs,
monitoring (PromQL) and logs (LogQL)."""
