"""People's reviews of extracted facts: accept, correct, reject, add; the queue of facts to
review, most doubtful first; and the reviewed facts as GUIDELINE JSONL."""
