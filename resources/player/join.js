// The player page: asks once who is playing, joins the world from the link,
// shows its feed live and rolls its challenges.
import { Session, linkParameters, pageCallbacks, refusalText, setStatus, showProblem } from './feed.js';

const PROFILE_KEY = 'eventdesk:profile';
const KEEP = 60;
const $ = (id) => document.getElementById(id);

function loadProfile() {
  try {
    const p = JSON.parse(localStorage.getItem(PROFILE_KEY) || 'null');
    if (p && typeof p.name === 'string' && typeof p.character === 'string' && p.name.trim() && p.character.trim())
      return { name: p.name.trim().slice(0, 64), character: p.character.trim().slice(0, 64) };
  } catch (_) { /* asked again */ }
  return null;
}

function saveProfile(profile) {
  try { localStorage.setItem(PROFILE_KEY, JSON.stringify(profile)); } catch (_) { /* kept for this visit only */ }
}

const { world, code } = linkParameters();
let profile = loadProfile();
let session = null;
let challengesAskedAt = 0;

function askProfile() {
  $('play').hidden = true;
  $('setup').hidden = false;
  if (profile) {
    $('player-name').value = profile.name;
    $('character-name').value = profile.character;
  }
  $('player-name').focus();
}

function showPlayer() {
  $('who-character').textContent = profile.character;
  $('who-name').textContent = profile.name;
  $('setup').hidden = true;
  $('play').hidden = false;
}

function setRollEnabled(enabled) {
  const hasChallenge = $('challenge').options.length > 0 && $('challenge').value !== '';
  $('roll-button').disabled = !enabled || !hasChallenge;
  $('challenge').disabled = !enabled;
}

function askChallenges() {
  const now = Date.now();
  if (session && now - challengesAskedAt > 3000 && session.send({ type: 'ListChallenges' })) challengesAskedAt = now;
}

function showChallenges(list) {
  const select = $('challenge');
  const chosen = select.value;
  select.replaceChildren();
  const sorted = [...list].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  for (const c of sorted) {
    const option = document.createElement('option');
    option.value = c.challenge_id;
    option.textContent = `${c.name} (difficulty ${c.difficulty})`;
    select.append(option);
  }
  if (!sorted.length) {
    const option = document.createElement('option');
    option.value = '';
    option.textContent = 'No challenges yet';
    select.append(option);
    $('roll-note').textContent = 'The DM has not set any challenges for this world yet.';
  } else if (sorted.some((c) => c.challenge_id === chosen)) {
    select.value = chosen;
  }
  setRollEnabled(session && session.connected);
}

function start() {
  showPlayer();
  if (session) {
    session.setName(profile.name);
    return;
  }
  const page = pageCallbacks(world, KEEP, 'EventDesk');
  session = new Session({
    world,
    code,
    name: profile.name,
    keep: KEEP,
    ...page,
    onState(state, text) {
      page.onState(state, text);
      setRollEnabled(state === 'connected');
    },
    onJoined(joined) {
      page.onJoined(joined);
      challengesAskedAt = 0;
      askChallenges();
    },
    onChallenges: showChallenges,
    onPublished() {
      $('roll-note').textContent = 'Rolled: the result is at the top of the feed.';
    },
    onError(error) {
      $('roll-note').textContent = error.code === 'rate_limited' ? 'Slow down a little, then roll again.' : error.message;
    },
    onRefused(error) {
      setRollEnabled(false);
      showProblem(refusalText(error, 'to let you join'));
    },
  });
  session.restore();
  page.shown();
  session.start();
}

function clampModifier(value) {
  const n = Math.round(Number(value));
  return Number.isFinite(n) ? Math.max(-10, Math.min(10, n)) : 0;
}

$('setup-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('player-name').value.trim();
  const character = $('character-name').value.trim();
  const missing = !name ? 'player-name' : !character ? 'character-name' : null;
  for (const id of ['player-name', 'character-name']) $(id).setAttribute('aria-invalid', String(id === missing));
  if (missing) {
    $('setup-error').textContent = missing === 'player-name' ? 'Please give your name.' : 'Please name your character.';
    $(missing).focus();
    return;
  }
  $('setup-error').textContent = '';
  profile = { name: name.slice(0, 64), character: character.slice(0, 64) };
  saveProfile(profile);
  start();
  $('feed-heading').focus();
});

$('change-player').addEventListener('click', askProfile);
$('challenge').addEventListener('focus', askChallenges);
$('challenge').addEventListener('change', () => setRollEnabled(session && session.connected));
$('modifier').addEventListener('change', () => { $('modifier').value = String(clampModifier($('modifier').value)); });
const stepModifier = (by) => { $('modifier').value = String(clampModifier(clampModifier($('modifier').value) + by)); };
$('modifier-down').addEventListener('click', () => stepModifier(-1));
$('modifier-up').addEventListener('click', () => stepModifier(1));

$('roll-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const challenge = $('challenge').value;
  if (!challenge) {
    $('roll-note').textContent = 'Pick a challenge first.';
    return;
  }
  const modifier = clampModifier($('modifier').value);
  $('modifier').value = String(modifier);
  const sent = session && session.send({ type: 'ChallengeRoll', challenge_id: challenge, character_id: profile.character, modifier });
  $('roll-note').textContent = sent ? 'Rolling…' : 'Not connected: wait for the connection, then roll again.';
});

if (!world || !code) {
  setStatus('refused', 'Not connected');
  showProblem('The link is missing its world or its join code. Ask the DM for the join link.');
} else if (profile) {
  start();
} else {
  askProfile();
}
