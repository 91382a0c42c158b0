// The table screen: a read-only view for a TV at the table. It joins the world
// like a player named "Table screen" and shows the latest beats in large type.
import { Session, linkParameters, pageCallbacks, refusalText, setStatus, showProblem } from './feed.js';

const KEEP = 6;
const { world, code } = linkParameters();

if (!world || !code) {
  setStatus('refused', 'Not connected');
  showProblem('The link is missing its world or its join code. Ask the DM for the table screen’s link.');
} else {
  const page = pageCallbacks(world, KEEP, 'table screen');
  const session = new Session({
    world,
    code,
    name: 'Table screen',
    recent: KEEP,
    keep: KEEP,
    memory: 'table',
    ...page,
    onRefused(error) {
      showProblem(refusalText(error, 'the table screen'));
    },
  });
  session.restore();
  page.shown();
  session.start();
}
