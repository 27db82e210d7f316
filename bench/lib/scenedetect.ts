// PySceneDetect for the benchmarks that compare against it (shots-speed, matchcut-seed): PyPI `scenedetect` with
// `opencv-python-headless`, pinned, installed into .mediamesh/venv-scenedetect on first use.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/config/config.ts';

export const SCENEDETECT_VENV = path.join(projectRoot, '.mediamesh', 'venv-scenedetect');
export const SCENEDETECT_PYTHON = path.join(SCENEDETECT_VENV, 'bin', 'python');

// scenedetect's own metadata asks for the GUI opencv-python; installed without its dependencies, beside the
// headless build it runs on.
export const SCENEDETECT_PYPI = {
  deps: [
    'opencv-python-headless==5.0.0.93',
    'numpy==2.4.6',
    'click==8.5.1',
    'platformdirs==4.14.8',
    'tqdm==4.70.1',
  ],
  scenedetect: 'scenedetect==0.7.2',
};

/** Installs PySceneDetect into its venv unless it is there; returns "<scenedetect> <opencv>" versions. */
export function ensureScenedetect(): string {
  const PY = SCENEDETECT_PYTHON;
  const VENV = SCENEDETECT_VENV;
  const probe = () =>
    execFileSync(PY, ['-c', 'import scenedetect, cv2; print(scenedetect.__version__, cv2.__version__)'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  try {
    const v = probe();
    if (v.startsWith('0.7.2 ')) return v;
  } catch {}
  process.stdout.write(
    `installing ${SCENEDETECT_PYPI.scenedetect} with opencv-python-headless into ${path.relative(projectRoot, VENV)} …\n`,
  );
  if (!fs.existsSync(PY)) execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  const pip = [path.join(VENV, 'bin', 'pip'), 'install', '-q', '--disable-pip-version-check'];
  execFileSync(pip[0]!, [...pip.slice(1), ...SCENEDETECT_PYPI.deps], { stdio: 'inherit' });
  execFileSync(pip[0]!, [...pip.slice(1), '--no-deps', SCENEDETECT_PYPI.scenedetect], { stdio: 'inherit' });
  return probe();
}
