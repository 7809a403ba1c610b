"""Names shared by the loader and the plugin (no imports: the entry point must stay cheap)."""

PLUGIN_NAME = "runhistory"  # also the URL segment: /data/plugin/runhistory/...
TAB_NAME = "Run History"
STORE_FLAG = "runhistory_store"  # tensorboard --runhistory_store STORE
ES_MODULE_PATH = "/index.js"
