"""Static files storage: whitenoise's compressed, hashed-name storage, also rewriting the page's
JavaScript module imports (`from "./api.js"`) to the hashed names so a new release is never mixed
with cached modules of the old one."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
