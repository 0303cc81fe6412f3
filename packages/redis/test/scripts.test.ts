/**
 * The Lua scripts follow their convention: one command per file named
 * `<command>-<numberOfKeys>.ts` (or `<command>-<numberOfKeys>+.ts` when more KEYS follow),
 * whose header documents exactly KEYS[1..n] (and the ones that follow) and its ARGV.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LuaScript } from '../src/scripts/script.js';

const dir = fileURLToPath(new URL('../src/scripts/', import.meta.url));
const FILE = /^([a-z]+)-(\d+)(\+?)\.ts$/;
const files = readdirSync(dir).filter((file) => FILE.test(file));

describe('Lua scripts', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)(
    '%s is named after its command and key count, and documents them',
    async (file) => {
      // The file is known only at run time, so the bundler is told not to resolve it.
      const url = new URL(`../src/scripts/${file}`, import.meta.url).href;
      const module = (await import(/* @vite-ignore */ url)) as Record<string, LuaScript>;
      const scripts = Object.values(module);
      expect(scripts).toHaveLength(1);
      const script = scripts[0] as LuaScript;
      const [, command, keys, more] = file.match(FILE) ?? [];
      expect(script.name).toBe(command);
      expect(script.numberOfKeys).toBe(Number(keys));
      expect(script.moreKeys).toBe(more === '+');
      const header = script.lua.slice(0, script.lua.indexOf(']]'));
      expect(header.startsWith(`--[[ ${command}:`)).toBe(true);
      const documented = [...header.matchAll(/^\s+KEYS\[(\d+)\]/gm)].map((m) => Number(m[1]));
      expect(documented).toEqual(Array.from({ length: script.numberOfKeys }, (_, i) => i + 1));
      // The KEYS after the fixed ones are documented as one range.
      const range = new RegExp(`^\\s+KEYS\\[${script.numberOfKeys + 1}\\.\\.n\\]`, 'm');
      expect(range.test(header)).toBe(script.moreKeys);
      expect(header).toMatch(/ARGV\[1(\]|\.\.n\])/);
      expect(header).toMatch(/Returns/);
    },
  );
});
