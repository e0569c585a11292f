"""Window intake: 一次告知 → 一表申请 → 一套材料 → 受理或补正 → 出件 → 好差评 (no Flask here)."""
