// The table screen: a read-only view for a TV at the table. It joins the world
// like a player named "Table screen" and shows the latest beats in large type.
import { Session, addToFeed, linkParameters, setStatus, showProblem } from './feed.js';

const KEEP = 6;
const $ = (id) => document.getElementById(id);
const { world, code } = linkParameters();

function feedShown() {
  $('feed-empty').hidden = $('feed').children.length > 0;
}

if (!world || !code) {
  setStatus('refused', 'Not connected');
  showProblem('The link is missing its world or its join code. Ask the DM for the table screen’s link.');
} else {
  const session = new Session({
    world,
    code,
    name: 'Table screen',
    recent: KEEP,
    keep: KEEP,
    memory: 'table',
    onState: setStatus,
    onJoined(joined) {
      const name = joined.world_name || world;
      $('world-name').textContent = name;
      document.title = `${name} — table screen`;
    },
    onReset() {
      $('feed').replaceChildren();
      feedShown();
    },
    onEvent(message) {
      addToFeed($('feed'), message, KEEP);
      feedShown();
    },
    onRefused(error) {
      showProblem(error.code === 'unauthorized'
        ? 'The session did not accept this link’s join code. Ask the DM for the current link.'
        : `The session refused the table screen: ${error.message}`);
    },
  });
  session.restore();
  feedShown();
  session.start();
}
