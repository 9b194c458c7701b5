"""Adapters that let any registered strategy drive an external trainer.

Import the adapter you need by its full path; this package itself imports
nothing heavy (no trl, verl, ray or torch), so it is safe to import anywhere:

    from autocurriculum.integrations.trl import CurriculumGRPOTrainer      # needs `trl`
    from autocurriculum.integrations.verl import CurriculumSampler          # needs `verl` (<= 0.8)

Checkpoints store curriculum state through ``autocurriculum.core.codec`` (JSON), the one codec every adapter,
the service and the testbed share, so a state saved under one trainer loads under another.
"""
