"""Makes the torch.save files next to this script with the real PyTorch (run once by hand:
`pip install torch`; the suite reads the files, it does not need torch). v1 and v2 are one model's
state dicts where v2 changed the last layer only; checkpoint.pt is a training checkpoint (epoch,
optimizer state, a bfloat16 and a strided float16 tensor); legacy.pt uses the old non-zip format."""

import torch

torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
torch.save(m.state_dict(), "v1.pt")
with torch.no_grad():
    m[2].weight += 1.0
torch.save(m.state_dict(), "v2.pt")
opt = torch.optim.Adam(m.parameters(), lr=0.001)
torch.save({"epoch": 3, "model": m.state_dict(), "optimizer": opt.state_dict(),
            "note": "run 7", "bf": torch.arange(4, dtype=torch.bfloat16),
            "half": torch.ones(2, 2, dtype=torch.float16)[:, 1]}, "checkpoint.pt")
torch.save(m.state_dict(), "legacy.pt", _use_new_zipfile_serialization=False)
