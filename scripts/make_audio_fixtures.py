#!/usr/bin/env python3
"""Writes the audio reference fixtures the Swift tests compare against (committed, so the tests need no
Python): Tests/Fixtures/audio/features.npz from librosa and torchaudio in float64, and WAV files in every
supported encoding with the samples soundfile decodes from them.

    pip install librosa torchaudio soundfile scipy
    python3 scripts/make_audio_fixtures.py
"""
import os
import numpy as np
import librosa
import soundfile as sf
import torch
import torchaudio
import torchaudio.functional as AF

root = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "audio")
os.makedirs(root, exist_ok=True)
rng = np.random.default_rng(7)

# A test signal at 8 kHz: a chirp, a tone and a little noise; an odd length, so frames end unevenly.
sr = 8000
t = np.arange(3001) / sr
y = 0.5 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.2 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
y = y.astype(np.float32).astype(np.float64)   # what a float32 reader holds
out = {"signal": y, "sample_rate": np.array(sr)}

# librosa: zero padding, n_fft 512 / hop 128 (the audio models' settings), and n_fft 400 (not a power of two).
out["librosa_power_512"] = np.abs(librosa.stft(y, n_fft=512, hop_length=128)) ** 2
out["librosa_power_400"] = np.abs(librosa.stft(y, n_fft=400, hop_length=160)) ** 2
out["librosa_magnitude_hamming"] = np.abs(librosa.stft(y, n_fft=512, hop_length=128, win_length=400, window="hamming"))
out["librosa_mel_slaney"] = librosa.filters.mel(sr=sr, n_fft=512, n_mels=40)
out["librosa_mel_htk"] = librosa.filters.mel(sr=sr, n_fft=512, n_mels=40, htk=True, norm=None)
mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=128, n_mels=40)
out["librosa_melspectrogram"] = mel
out["librosa_power_to_db"] = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
out["librosa_amplitude_to_db"] = librosa.amplitude_to_db(np.sqrt(mel), ref=1.0, amin=1e-5, top_db=80.0)
mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40)
out["librosa_mfcc"] = mfcc
out["librosa_mfcc_lifter"] = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=512, hop_length=128, n_mels=40, lifter=22)
out["librosa_delta"] = librosa.feature.delta(mfcc, width=9)
out["window_hann_symmetric"] = librosa.filters.get_window("hann", 64, fftbins=False)
out["window_hamming_periodic"] = librosa.filters.get_window("hamming", 64, fftbins=True)

# torchaudio: reflection padding, n_fft 400 / hop 200, HTK mels without normalisation.
x = torch.from_numpy(y)
out["torchaudio_power_400"] = torchaudio.transforms.Spectrogram(n_fft=400).double()(x).numpy()
tmel = torchaudio.transforms.MelSpectrogram(sample_rate=sr, n_fft=400, n_mels=40).double()(x)
out["torchaudio_melspectrogram"] = tmel.numpy()
out["torchaudio_mel_fbanks"] = AF.melscale_fbanks(201, 0.0, sr / 2, 40, sr).numpy()
out["torchaudio_db"] = torchaudio.transforms.AmplitudeToDB("power", top_db=80).double()(tmel).numpy()
tmfcc = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=13, melkwargs={"n_fft": 400, "n_mels": 40}).double()(x)
out["torchaudio_mfcc"] = tmfcc.numpy()
out["torchaudio_deltas"] = AF.compute_deltas(tmfcc, win_length=5).numpy()
out["torchaudio_dct"] = AF.create_dct(13, 40, "ortho").numpy()

# Resampling, up and down, with torchaudio's defaults (Hann-windowed sinc, 6 zero crossings, roll-off 0.99).
for a, b in [(8000, 16000), (8000, 22050), (16000, 8000), (44100, 8000)]:
    sig = torch.from_numpy(y if a == 8000 else np.interp(np.arange(int(len(y) * a / 8000)) * 8000 / a, np.arange(len(y)), y))
    out[f"resample_in_{a}_{b}"] = sig.numpy()
    out[f"resample_{a}_{b}"] = AF.resample(sig, a, b).numpy()

np.savez_compressed(os.path.join(root, "features.npz"), **out)

# WAV files in every encoding the reader supports, and what soundfile decodes from them.
stereo = np.stack([y[:800], -0.5 * y[:800]], axis=1)
files = {
    "pcm8_mono.wav": (y[:800, None], 11025, "PCM_U8", "WAV"),
    "pcm16_stereo.wav": (stereo, 8000, "PCM_16", "WAV"),
    "pcm24_mono.wav": (y[:800, None], 44100, "PCM_24", "WAV"),
    "pcm32_stereo.wav": (stereo, 16000, "PCM_32", "WAV"),
    "float32_mono.wav": (y[:800, None], 22050, "FLOAT", "WAV"),
    "float64_stereo.wav": (stereo, 48000, "DOUBLE", "WAV"),
    "extensible_3ch.wav": (np.stack([y[:500], y[500:1000], y[1000:1500]], axis=1), 8000, "PCM_16", "WAVEX"),
}
expected = {}
for name, (data, rate, subtype, container) in files.items():
    path = os.path.join(root, name)
    sf.write(path, data, rate, subtype=subtype, format=container)
    decoded, r = sf.read(path, dtype="float64", always_2d=True)
    assert r == rate
    key = name[:-4]
    expected[key] = decoded
    expected[key + "_rate"] = np.array(rate)
np.savez_compressed(os.path.join(root, "wav_expected.npz"), **expected)
print("wrote", root)

# CTC: PyTorch's ctc_loss in float64 on logits through log_softmax, with a padded target batch, one
# impossible alignment (zero_infinity), every reduction, and the gradient with respect to the logits.
g = torch.Generator().manual_seed(3)
logits = torch.randn(12, 3, 5, dtype=torch.float64, generator=g)
targets = torch.tensor([[1, 2, 2, 3], [3, 1, 0, 0], [4, 4, 4, 0]], dtype=torch.int64)
input_lengths, target_lengths = torch.tensor([12, 9, 3]), torch.tensor([4, 2, 3])
ctc = {"logits": logits.numpy(), "targets": targets.numpy().astype(np.int32),
       "input_lengths": input_lengths.numpy(), "target_lengths": target_lengths.numpy()}
for reduction in ["none", "sum", "mean"]:
    x = logits.clone().requires_grad_(True)
    loss = torch.nn.functional.ctc_loss(x.log_softmax(-1), targets, input_lengths, target_lengths, blank=0,
                                        reduction=reduction, zero_infinity=True)
    (loss.sum() if reduction == "none" else loss).backward()
    ctc[f"loss_{reduction}"] = loss.detach().numpy()
    ctc[f"grad_{reduction}"] = x.grad.numpy()
np.savez_compressed(os.path.join(root, "ctc.npz"), **ctc)
