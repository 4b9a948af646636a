/**
 * The page of `cilo ui`: plain HTML, CSS and JavaScript in src/ui/assets/, with no front-end
 * build step. scripts/build.mjs embeds them in the bundle (`__CILO_UI_ASSETS__`), so the CLI
 * downloads and reads nothing at run time; run from source (tsx), they are read from disk.
 */
import { readFileSync } from 'node:fs';

export interface UiAsset {
  type: string;
  body: string;
}

export const ASSET_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * The files as one JSON string. A string, not an object: esbuild puts an object `define` in the
 * chunk every command loads, a string stays where it is used (the `ui` command's chunk).
 */
declare const __CILO_UI_ASSETS__: string | undefined;

function embedded(): Record<string, string> | undefined {
  return typeof __CILO_UI_ASSETS__ === 'string' ? (JSON.parse(__CILO_UI_ASSETS__) as Record<string, string>) : undefined;
}

/** The assets by URL path. */
export function uiAssets(): Map<string, UiAsset> {
  const files = embedded();
  const assets = new Map<string, UiAsset>();
  for (const [path, { file, type }] of Object.entries(ASSET_FILES)) {
    const body = files?.[file] ?? readFileSync(new URL(`./assets/${file}`, import.meta.url), 'utf8');
    assets.set(path, { type, body });
  }
  return assets;
}
