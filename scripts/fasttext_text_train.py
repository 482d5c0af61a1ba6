#!/usr/bin/env python3
"""The fasttext package's side of `nabla bench text_train`: supervised fastText on SMS spam
(80/20 split with seed 42), dimension 64, word bigrams, 10 epochs, THREADS threads (default 2),
default learning rate 0.1. Prints one JSON line like Nabla's bench. Needs `pip install fasttext-wheel`."""
import json, os, random, sys, tempfile, time

import fasttext

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../shared/data/sms-spam/SMSSpamCollection")
threads = int(os.environ.get("THREADS", "2"))
rows = []
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\r\n")
        if "\t" in line:
            label, text = line.split("\t", 1)
            rows.append((label, " ".join(text.lower().split())))
random.Random(42).shuffle(rows)
cut = len(rows) * 4 // 5
train, test = rows[:cut], rows[cut:]
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    for label, text in train:
        f.write(f"__label__{label} {text}\n")
    name = f.name
start = time.perf_counter()
model = fasttext.train_supervised(name, dim=64, wordNgrams=2, epoch=10, thread=threads, verbose=0)
seconds = time.perf_counter() - start
os.unlink(name)
# model.test's precision@1 is the accuracy for one label per text (predict() breaks under NumPy 2).
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    for label, text in test:
        f.write(f"__label__{label} {text}\n")
    test_name = f.name
_, accuracy, _ = model.test(test_name)
os.unlink(test_name)
print(json.dumps({"workload": "text_train_fasttext", "train_seconds": round(seconds, 3), "epoch_ms": round(seconds * 100, 1),
                  "test_accuracy": round(accuracy, 4), "threads": threads}))
