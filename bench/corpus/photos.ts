// The photographs the corpus is built from: Debian's wallpaper packages (real photographs, freely licensed,
// installable with apt on any Debian machine). Graphic wallpapers (gradients, drawings) in the same packages are
// left out: flat synthetic art would make shot boundaries easier than real footage does.
import fs from 'node:fs';
import path from 'node:path';

export const WALLPAPER_PACKAGES = ['lomiri-wallpapers-16.04', 'lomiri-wallpapers-20.04', 'ukui-wallpapers'];

const DIR = '/usr/share/backgrounds';

/** The photographs among the packages' files (by file name; the graphics are listed nowhere). */
export const PHOTOS = [
  'Bridge_by_Sander_Klootwijk.jpg',
  'Dragonfly_by_Bolly.jpg',
  'Infinite-Sea_by_Aury88.jpg',
  'Kleiber_by_Lukas_Baubkus.jpg',
  'Picture_0B_by_freespace.jpg',
  'Picture_1A_by_freespace.jpg',
  'Wine_by_Jakkub_Mede.jpg',
  'aitzgorri_by_Aitzol_Berasategi.jpg',
  'analogpattern_by_Peter_Nerlich.jpg',
  'free_by_Peter_Nerlich.jpg',
  'friends_by_Aitzol_Berasategi.jpg',
  'greentock_by_Peter_Nerlich.jpg',
  'life_by_Aitzol_Berasategi.jpg',
  'picosdeeuropa_by_Aitzol_Berasategi.jpg',
  'seeding_by_Clements_Engelhardt.jpg',
  'sunset_by_Aitzol_Berasategi.jpg',
] as const;

export interface Photo {
  name: string;
  file: string;
}

/**
 * The photographs, in a fixed order; fails with the apt command unless all are present (a seed must give the same
 * corpus everywhere).
 */
export function findPhotos(dir = DIR): Photo[] {
  const found = PHOTOS.filter((name) => fs.existsSync(path.join(dir, name))).map((name) => ({
    name,
    file: path.join(dir, name),
  }));
  if (found.length < PHOTOS.length) {
    throw new Error(
      `the corpus needs ${PHOTOS.length} photographs from Debian's wallpaper packages, found ${found.length} in ` +
        `${dir}: apt-get install --no-install-recommends ${WALLPAPER_PACKAGES.join(' ')}`,
    );
  }
  return found;
}
