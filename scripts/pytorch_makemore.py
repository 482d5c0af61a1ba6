"""PyTorch reference for `nabla lm train --preset makemore`: makemore's Transformer (4 layers, 4 heads,
width 64, block 16, PyTorch's default initialisation, tanh GELU) on names.txt with makemore's data
layout (start token, per-name padding ignored by the loss) and optimiser (AdamW 5e-4, weight decay 0.01,
betas 0.9/0.99, batch 32). Holds out a random 10% of the names and reports the loss over all of them.
Usage: python3 scripts/pytorch_makemore.py PATH/TO/names.txt [steps] [eval_every]"""
import json, math, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

torch.manual_seed(3407)
words = [w.strip() for w in open(sys.argv[1]) if w.strip()]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
every = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
chars = sorted(set("".join(words))); stoi = {c: i + 1 for i, c in enumerate(chars)}
T = max(len(w) for w in words) + 1; V = len(chars) + 1
def rows(ws):
    x = torch.zeros(len(ws), T, dtype=torch.long); y = torch.full((len(ws), T), -1, dtype=torch.long)
    for r, w in enumerate(ws):
        ix = [stoi[c] for c in w]
        x[r, 1:1 + len(ix)] = torch.tensor(ix); y[r, :len(ix)] = torch.tensor(ix); y[r, len(ix)] = 0
    return x, y
perm = torch.randperm(len(words)).tolist(); cut = len(words) * 9 // 10
train_x, train_y = rows([words[i] for i in perm[:cut]]); val_x, val_y = rows([words[i] for i in perm[cut:]])

class Block(nn.Module):
    def __init__(s, d, h):
        super().__init__(); s.h = h
        s.ln1, s.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.qkv, s.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        s.fc, s.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
    def forward(s, x):
        b, t, c = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, s.h, c // s.h).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, c)
        x = x + s.proj(y)
        return x + s.out(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))

class Transformer(nn.Module):
    def __init__(s, L=4, H=4, D=64):
        super().__init__()
        s.tok, s.pos = nn.Embedding(V, D), nn.Embedding(T, D)
        s.blocks = nn.Sequential(*[Block(D, H) for _ in range(L)])
        s.ln, s.head = nn.LayerNorm(D), nn.Linear(D, V, bias=False)
    def forward(s, idx, targets):
        x = s.tok(idx) + s.pos(torch.arange(idx.shape[1]))
        logits = s.head(s.ln(s.blocks(x)))
        return F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)

model = Transformer()
opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)

@torch.no_grad()
def val_loss():
    model.eval(); total, count = 0.0, 0
    for i in range(0, len(val_x), 256):
        y = val_y[i:i + 256]; n = int((y >= 0).sum())
        total += model(val_x[i:i + 256], y).item() * n; count += n
    model.train(); return total / count

t_train = 0.0
for it in range(1, steps + 1):
    t = time.perf_counter()
    ix = torch.randint(0, len(train_x), (32,))
    loss = model(train_x[ix], train_y[ix])
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    t_train += time.perf_counter() - t
    if it % every == 0: print(f"step {it}: train loss {loss.item():.4f}, val loss {val_loss():.4f}, {t_train:.1f}s", flush=True)
print(json.dumps(dict(anchor="pytorch", workload="makemore_transformer", steps=steps, val_loss=round(val_loss(), 4), train_s=round(t_train, 1))))
