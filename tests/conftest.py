import sys
from pathlib import Path

# make the shared contract helpers in tests/ importable
sys.path.insert(0, str(Path(__file__).parent))
