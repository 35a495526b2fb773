"""Entry functions of the pipeline's ClearML function steps.

ClearML copies each function's *source* into a standalone step script, so each
body must be self-contained: it imports the real wrapper inside the function
and delegates. Arguments arrive as strings (IDs and JSON config sections);
returns are strings (IDs, small JSON), stored by ClearML as step outputs.
"""


def version_dataset(data_cfg: str, project: str):
    from pipelines.failures import guarded
    from pipelines.step_tasks import run_version_dataset
    return guarded(run_version_dataset, data_cfg, project)


def preprocess(dataset_id: str, dataset_hash: str, preprocess_cfg: str, project: str):
    from pipelines.failures import guarded
    from pipelines.step_tasks import run_preprocess
    return guarded(run_preprocess, dataset_id, dataset_hash, preprocess_cfg, project)


def train_family(prepared_id: str, family: str, train_cfg: str, preprocess_cfg: str, project: str):
    from pipelines.failures import guarded
    from pipelines.train_task import run_train_family
    return guarded(run_train_family, prepared_id, family, train_cfg, preprocess_cfg, project)


def train_budgeted(prepared_id: str, train_cfg: str, preprocess_cfg: str, project: str):
    from pipelines.failures import guarded
    from pipelines.train_task import run_train_budgeted
    return guarded(run_train_budgeted, prepared_id, train_cfg, preprocess_cfg, project)


def validate(prepared_id: str, evaluate_cfg: str, project: str, **model_ids):
    from pipelines.failures import guarded
    from pipelines.validate_task import run_validate
    return guarded(run_validate, prepared_id, evaluate_cfg, project, model_ids)


def publish(candidate_id: str, report: str, publish_cfg: str, project: str, run_info: str):
    from pipelines.failures import guarded
    from pipelines.publish_task import run_publish
    return guarded(run_publish, candidate_id, report, publish_cfg, project, run_info)
