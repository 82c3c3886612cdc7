"""Quality measurement: `monitor eval` and `make eval` (report in docs/quality.md, floors gate in
eval/floors.json). Reads the evaluation data outside the repository (../shared/data) at run time.

  metrics     precision/recall/F1 arithmetic, the floors check and raise (pure)
  security    security relevance and the terrorism topic on classify/security_dev.jsonl
  entities    entity spans and canonical names on entities/re3d
  extraction  main-text extraction on extract/cases.json + pages/
  languages   Russian / French dev sets built by scripts/build_lang_dev.py (labels in eval/lang/)
  report      orchestration, markdown, floors file
"""
