import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A stand-in for torchrun: dies on SIGUSR1 (default action) and starts one worker that checkpoints on SIGUSR1.
AGENT = r"""
import subprocess, sys
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
sys.exit(worker.wait())
"""
WORKER = r"""
import signal, sys, time
flag = []
signal.signal(signal.SIGUSR1, lambda *a: flag.append(1))
open(sys.argv[1] + ".ready", "w").close()
deadline = time.time() + 30
while not flag and time.time() < deadline:
    time.sleep(0.01)
open(sys.argv[1], "w").write("preempted" if flag else "timeout")
"""


@unittest.skipUnless(os.path.isdir("/proc"), "needs /proc")
class LaunchRelayTests(unittest.TestCase):
    def test_sigusr1_reaches_the_worker_and_not_the_launcher(self) -> None:
        with tempfile.TemporaryDirectory() as temp:
            marker = os.path.join(temp, "worker")
            relay = subprocess.Popen([sys.executable, "-m", "llamamoe_hf.launch", "--", sys.executable, "-c", AGENT,
                                      WORKER, marker], env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT),
                                     stderr=subprocess.PIPE, text=True)
            deadline = time.time() + 30
            while not os.path.exists(marker + ".ready") and time.time() < deadline:
                time.sleep(0.02)
            relay.send_signal(signal.SIGUSR1)
            _, stderr = relay.communicate(timeout=30)
            self.assertEqual(relay.returncode, 0, stderr)
            with open(marker) as handle:
                self.assertEqual(handle.read(), "preempted")
            self.assertIn("SIGUSR1 to 1 worker process(es)", stderr)

    def test_exit_status_is_the_launchers(self) -> None:
        result = subprocess.run([sys.executable, "-m", "llamamoe_hf.launch", "--", sys.executable, "-c",
                                 "import sys; sys.exit(3)"], env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT), timeout=30)
        self.assertEqual(result.returncode, 3)


if __name__ == "__main__":
    unittest.main()
