// Shared by the player page and the table screen: the link's parameters, the
// session connection (join, resume without gap or duplicate, reconnect), and
// how an event reads in the game's words. No framework; text goes into the
// page through textContent only, never as markup.

export function linkParameters() {
  const q = new URLSearchParams(location.search);
  return { world: (q.get('world') || '').trim(), code: (q.get('code') || '').trim() };
}

export function showProblem(text) {
  const box = document.getElementById('problem');
  document.getElementById('problem-text').textContent = text;
  box.hidden = false;
}

// What this browser keeps for one world of one session host: the last
// position seen and the latest messages, so that a reload shows the same feed
// and a reconnect asks for what came after it.
class Memory {
  constructor(world, role) {
    this.key = `eventdesk:${location.host}:${role}:${world}`;
    this.seq = null;
    this.feed = [];
    try {
      const kept = JSON.parse(localStorage.getItem(this.key) || 'null');
      if (kept && Number.isSafeInteger(kept.seq) && Array.isArray(kept.feed)) {
        this.seq = kept.seq;
        this.feed = kept.feed.filter((m) => m && typeof m === 'object');
      }
    } catch (_) { /* a damaged entry is forgotten */ }
  }
  remember(message, keep) {
    if (!message.replay) this.seq = message.seq;
    this.feed.push(message);
    if (this.feed.length > keep) this.feed.splice(0, this.feed.length - keep);
    this.save();
  }
  forget() {
    this.seq = null;
    this.feed = [];
    this.save();
  }
  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify({ seq: this.seq, feed: this.feed }));
    } catch (_) { /* private mode or full: the page still works, it just forgets */ }
  }
}

const EVENT_TYPES = new Set(['StoryEventCreated', 'NarrativeEventTriggered', 'ChallengeResolved']);
const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;

// One player's connection to the session. Callbacks: onState(state, text),
// onJoined(joined), onEvent(message, {restored}), onChallenges(list),
// onPublished(seq), onError(error).
export class Session {
  // memory: what this browser keeps it under ('player' or 'table').
  constructor({ world, code, name, recent = 30, keep = 60, memory = 'player', ...callbacks }) {
    Object.assign(this, { world, code, name, recent, keep, callbacks });
    this.memory = new Memory(world, memory);
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.stopped = false;
    this.refused = false;
    addEventListener('online', () => this.reconnectNow());
    document.addEventListener('visibilitychange', () => { if (!document.hidden) this.reconnectNow(); });
  }

  // The feed as this browser last saw it, oldest first.
  restore() {
    for (const m of this.memory.feed) this.emit('onEvent', m, { restored: true });
  }

  start() {
    this.stopped = false;
    this.refused = false;
    this.connect();
  }

  setName(name) {
    this.name = name;
    if (this.socket) this.socket.close(1000, 'new name');
  }

  get connected() { return !!this.socket && this.socket.readyState === WebSocket.OPEN && this.joined; }

  send(message) {
    if (!this.connected) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  emit(name, ...args) {
    const f = this.callbacks[name];
    if (f) f(...args);
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.joined = false;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}/session`);
    } catch (e) {
      this.retry(`Cannot connect: ${e.message}`);
      return;
    }
    this.socket = socket;
    this.emit('onState', 'connecting', this.attempt ? 'Reconnecting…' : 'Connecting…');
    socket.onopen = () => {
      const join = { type: 'Join', role: 'player', world_id: this.world, name: this.name, join_code: this.code };
      if (this.memory.seq !== null) join.last_seq = this.memory.seq;
      else join.recent = this.recent;
      socket.send(JSON.stringify(join));
    };
    socket.onmessage = (e) => this.receive(socket, e.data);
    socket.onclose = (e) => {
      if (socket !== this.socket) return;
      this.stopHeartbeat();
      this.socket = null;
      this.joined = false;
      if (this.refused || this.stopped) return;
      if (e.code === 1001) this.retry('The session has ended. Waiting for the DM to host again…', 5000);
      else if (e.code === 1008) this.retry('The session closed the connection. Trying again…', 5000);
      else this.retry('Connection lost. Reconnecting…');
    };
  }

  receive(socket, data) {
    if (socket !== this.socket) return;
    let m;
    try { m = JSON.parse(data); } catch (_) { return; }
    if (!m || typeof m.type !== 'string') return;
    if (EVENT_TYPES.has(m.type) && Number.isSafeInteger(m.seq)) {
      if (m.replay) {
        this.memory.remember(m, this.keep);
        this.emit('onEvent', m, { restored: false });
      } else if (this.memory.seq === null || m.seq > this.memory.seq) {
        this.memory.remember(m, this.keep);
        this.emit('onEvent', m, { restored: false });
      }
      return;
    }
    switch (m.type) {
    case 'Joined':
      if (this.memory.seq !== null && m.head_seq < this.memory.seq) {
        // The session's log is not the one this browser followed (reset or
        // another database): start again from its latest events.
        this.memory.forget();
        this.emit('onReset');
        socket.close(1000, 'log reset');
        this.socket = null;
        this.connect();
        return;
      }
      this.joined = true;
      this.attempt = 0;
      this.emit('onState', 'connected', 'Connected');
      this.emit('onJoined', m);
      this.startHeartbeat();
      break;
    case 'Challenges':
      this.emit('onChallenges', Array.isArray(m.challenges) ? m.challenges : []);
      break;
    case 'Published':
      this.emit('onPublished', m.seq);
      break;
    case 'Pong':
      clearTimeout(this.pongTimer);
      break;
    case 'Error':
      if (!this.joined && (m.code === 'unauthorized' || m.code === 'bad_message' || m.code === 'forbidden')) {
        const full = m.code === 'forbidden' && /full/.test(m.message || '');
        if (!full) {
          this.refused = true;
          this.emit('onState', 'refused', 'Not admitted');
          this.emit('onRefused', m);
          return;
        }
      }
      this.emit('onError', m);
      break;
    default:
      break;
    }
  }

  retry(text, atLeastMs = 0) {
    clearTimeout(this.retryTimer);
    const base = Math.min(10000, 500 * 2 ** Math.min(this.attempt, 5));
    const wait = Math.max(atLeastMs, Math.round(base * (0.75 + Math.random() * 0.5)));
    this.attempt += 1;
    this.emit('onState', 'waiting', `${text} (in ${Math.ceil(wait / 1000)} s)`);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  reconnectNow() {
    if (this.stopped || this.refused || this.socket) return;
    this.connect();
  }

  // A connection that died without a close (a phone that slept, Wi-Fi that
  // went) is noticed within half a minute, not minutes.
  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'Ping' })) return;
      clearTimeout(this.pongTimer);
      const socket = this.socket;
      this.pongTimer = setTimeout(() => { if (socket === this.socket) socket.close(4000, 'no answer'); }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}

function words(text) {
  const s = String(text || '').replace(/[_-]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : '';
}

// The engine's story event types, as a player would say them.
const STORY = {
  dialogue: 'A conversation',
  challenge_attempt: 'A challenge is attempted',
  scene_transition: 'The scene changes',
  dm_marker: 'The DM marks the moment',
  item_acquired: 'An item is found',
  relationship_change: 'A relationship changes',
  combat_started: 'Combat begins',
  combat_ended: 'Combat ends',
  location_discovered: 'A new place is discovered',
  quest_updated: 'The quest moves on',
};

const OUTCOMES = {
  critical_success: 'Critical success',
  critical_failure: 'Critical failure',
  success: 'Success',
  failure: 'Failure',
};

// An event message → what a player reads: a kind, a headline, details.
export function describe(m) {
  switch (m.type) {
  case 'StoryEventCreated':
    return { kind: 'story', label: 'Story', headline: STORY[m.event_type] || words(m.event_type) || 'A new scene',
      details: [] };
  case 'NarrativeEventTriggered': {
    const details = [];
    if (m.outcome_description) details.push(`→ ${m.outcome_description}`);
    if (m.scene_direction) details.push(m.scene_direction);
    return { kind: 'narrative', label: 'Narrative', headline: m.event_name || 'Something happens', details };
  }
  case 'ChallengeResolved': {
    const success = m.success === true || /success/.test(m.outcome || '');
    const who = m.character_name || 'Someone';
    const modifier = Number(m.modifier) || 0;
    const sign = modifier < 0 ? '−' : '+';
    const roll = modifier === 0 ? `Rolled ${m.roll}: total ${m.total}`
      : `Rolled ${m.roll} ${sign} ${Math.abs(modifier)} = ${m.total}`;
    return {
      kind: 'challenge',
      label: 'Challenge',
      headline: `${who} ${success ? 'succeeded' : 'failed'} at ${m.challenge_name || 'a challenge'}`,
      details: [roll],
      badge: OUTCOMES[m.outcome] || (success ? 'Success' : 'Failure'),
      success,
    };
  }
  default:
    return null;
  }
}

function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// One feed entry, newest at the top; at most `keep` are shown.
export function addToFeed(list, m, keep) {
  const d = describe(m);
  if (!d) return null;
  const item = el('li', `entry ${d.kind}`);
  item.dataset.seq = String(m.seq);
  if (m.replay) item.dataset.replay = 'true';
  const head = el('p', 'meta');
  head.append(el('span', 'label', d.label));
  if (d.badge) head.append(el('span', `badge ${d.success ? 'good' : 'bad'}`, d.badge));
  if (m.replay) head.append(el('span', 'badge replay', 'Replayed'));
  const time = el('time', 'time', clock(m.created_at));
  if (m.created_at) time.dateTime = m.created_at;
  head.append(time);
  item.append(head, el('p', 'headline', d.headline));
  for (const line of d.details) item.append(el('p', 'detail', line));
  list.prepend(item);
  while (list.children.length > keep) list.lastElementChild.remove();
  return item;
}

// What both pages do with the session: the world's name as the heading and
// the title, the feed shown (or "nothing yet"), emptied when the log was reset.
export function pageCallbacks(world, keep, titleSuffix) {
  const feed = document.getElementById('feed');
  const empty = document.getElementById('feed-empty');
  const shown = () => { empty.hidden = feed.children.length > 0; };
  return {
    shown,
    onState: setStatus,
    onJoined(joined) {
      const name = joined.world_name || world;
      document.getElementById('world-name').textContent = name;
      document.title = `${name} — ${titleSuffix}`;
    },
    onReset() {
      feed.replaceChildren();
      shown();
    },
    onEvent(message) {
      addToFeed(feed, message, keep);
      shown();
    },
  };
}

export function refusalText(error, what) {
  return error.code === 'unauthorized'
    ? 'The session did not accept this link’s join code. Ask the DM for the current link.'
    : `The session refused ${what}: ${error.message}`;
}

export function setStatus(state, text) {
  const status = document.getElementById('status');
  status.dataset.state = state;
  status.textContent = text;
}
