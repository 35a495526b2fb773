"""The examples and explanations ``tabpipe --help`` and ``tabpipe predict --help`` end with."""

EPILOG = """\
examples:
  tabpipe run                                   # hpc_data, default config, embedded server
  tabpipe run --dataset mlc_churn               # another bundled dataset (see `tabpipe datasets`)
  tabpipe run --csv my.csv --target label       # your own table (CSV or Parquet)
  tabpipe run --csv my.csv --target grade --set 'data.class_order=[C, B, A]'
                                                # ordered classes (lowest first): boosting
                                                # also tries an ordinal decomposition
  tabpipe run --csv my.csv --target churned --set data.time_column=signup_date
                                                # out of time: the latest rows are the test
                                                # split, CV folds learn only from the past
  tabpipe run --csv my.csv --target churned --set data.time_column=snapshot
              --set preprocess.time_gap=90D     # (one command) labels known 90 days after
                                                # their row: no training row from the 90
                                                # days before a scored period
  tabpipe run --csv genes.csv --target subtype --set 'preprocess.feature_selection.search=[8, 32, 128]'
                                                # a wide table (> 300 columns): each family
                                                # searches how many of the best columns to keep
  tabpipe run --set train.families='[hist_gb, logreg]' --set train.timeout_s=30
  tabpipe run --set 'train.search.hist_gb={learning_rate: 0.05, max_iter: {low: 200, high: 900}}'
                                                # fix or narrow a family's search space
  tabpipe run --set train.timeout_s=null --set train.n_trials=20
                                                # no time limit: the same config repeats exactly
  tabpipe run --split-seeds 0 1 2               # one setting on 3 test splits: mean, sd, range
  tabpipe run --set evaluate.prediction_sets.method=cv_plus
                                                # prediction sets from the fold models (CV+):
                                                # rare classes covered as promised; larger model
  tabpipe run --set 'train.trial_tasks={families: [svm], concurrency: 2}'
                                                # each svm trial its own ClearML task, run by
                                                # ClearML's HyperParameterOptimizer (slow fits)
  tabpipe run --agents 2                        # steps executed by 2 local clearml-agent workers
  tabpipe run --mode remote                     # controller on 'services', steps on 'default'
  tabpipe dag                                   # print the DAG the config produces
  tabpipe server start | status | stop          # the embedded ClearML-compatible server
  tabpipe show models                           # read-only view of what the server holds
  tabpipe predict new.csv                       # score a table with the published champion
  tabpipe report                                # the latest run as an HTML page with its figures
  tabpipe runs                                  # every run: winner, scores, decision
  tabpipe runs --compare                        # what changed between the two newest runs
  tabpipe runs --splits                         # each setting's mean and spread over test splits

Every run: a dataset version (reused when the content is unchanged), a prepared
version with a frozen test split, one tuned model per family, a validation report
with leaderboard and plots, and the winner registered; it is published only when it
passes the quality gates and beats the current champion on the same test split.
"""


PREDICT_EPILOG = """\
examples:
  tabpipe predict new_jobs.csv                        # the champion; writes new_jobs-predictions.csv
  tabpipe predict new.parquet --model hpc_data-classifier --out scored.parquet
  tabpipe predict new.csv --model 3f2a...             # any registered model, by ID

The scored table is the input with a `predicted` column and one `proba_<class>` column per
class. The model applies its own preprocessing and stored decision threshold; the table
needs the columns it was trained on (extra columns are kept and ignored). When the table
also holds the target column, accuracy and macro-F1 on those rows are printed. Columns
that differ from the training rows (values outside the training range, unseen categories,
far more missing values) are named with their share; the rows are scored anyway.
"""
