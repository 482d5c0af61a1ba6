#!/usr/bin/env python3
"""The `nabla bench audio_features` work in librosa and torchaudio: log-mel spectrograms (n_fft 512,
hop 128, 64 mels, in decibels) of every FSDD recording, files read (soundfile) and decoded included.
Each library runs twice; the second (warm) pass is reported, one JSON line each.

    python3 scripts/audio_features_reference.py ../shared/data/fsdd/recordings
"""
import glob, json, os, sys, time
import numpy as np
import soundfile as sf

folder = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/fsdd/recordings"
files = sorted(glob.glob(os.path.join(folder, "*.wav")))
threads = int(os.environ.get("THREADS", "2"))


def librosa_pass():
    import librosa
    for f in files:
        y, sr = sf.read(f, dtype="float32")
        librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=128, n_mels=64), ref=1.0, top_db=80.0)


def torchaudio_pass():
    import torch, torchaudio
    torch.set_num_threads(threads)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=8000, n_fft=512, hop_length=128, n_mels=64, norm="slaney", mel_scale="slaney",
                                               pad_mode="constant")
    db = torchaudio.transforms.AmplitudeToDB("power", top_db=80)
    with torch.inference_mode():
        for f in files:
            y, sr = sf.read(f, dtype="float32")
            db(mel(torch.from_numpy(y)))


for name, run in [("librosa", librosa_pass), ("torchaudio", torchaudio_pass)]:
    run()
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    print(json.dumps({"workload": "audio_features", "library": name, "files": len(files), "seconds": round(seconds, 3),
                      "files_per_s": round(len(files) / seconds, 1)}))
