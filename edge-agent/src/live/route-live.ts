import type { PlayableItem } from '@loa/protocols';
import type { Renderer } from '../playback/renderer.js';
import type { LiveSessionLookup } from './live-sessions.js';

/**
 * The engine has one renderer: this one sends live items to the live renderer and
 * everything else (files, alerts, tests) to the file renderer. For receivers and for the
 * simulator, which compose their own pair.
 */
export function routeLive(files: Renderer, live: Renderer, isLive: (item: PlayableItem) => boolean): Renderer {
  return {
    render: (item, signal, onProgress) => (isLive(item) ? live : files).render(item, signal, onProgress),
  };
}

/** A live item is one whose id is an open live session's (the session id is its item id). */
export function isLiveItem(sessions: LiveSessionLookup): (item: PlayableItem) => boolean {
  return (item) => sessions.get(item.itemId) !== undefined;
}
