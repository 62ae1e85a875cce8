from django.apps import AppConfig
from django.conf import settings
from django.core.signals import setting_changed


class PredictionsConfig(AppConfig):
    name = "predictions"

    def ready(self) -> None:
        """Safe to run twice: the preload runs once per registry, the signal connects once (dispatch_uid)."""
        from predictions.registry import get_registry, reset_registry

        def forget_registry(*, setting: str, **_signal: object) -> None:
            if setting in {"MODELS_DIR", "DEFAULT_MODEL"}:
                reset_registry()

        setting_changed.connect(forget_registry, dispatch_uid="predictions.reset_registry", weak=False)
        if settings.PRELOAD_DEFAULT_MODEL:
            get_registry().preload_default_in_background()
