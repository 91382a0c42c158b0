// ListChallenges and ChallengeRoll: the challenges a client may roll, and a
// roll through the producer (ChallengeService), published on the bus.
#include "SessionHandlers.h"

#include "Ids.h"
#include "BusLog.h"
#include "DeskPorts.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;

template <>
void SessionServer::handle<protocol::ListChallenges>(Client *c, const protocol::ListChallenges &)
{
    if (!m_challengeBook) {
        send(c, textFrame(protocol::challenges(c->info.worldId, {})));
        return;
    }
    const QString id = c->info.id;
    const QString world = c->info.worldId == session::AllWorlds ? QString() : c->info.worldId;
    m_challengeBook->challenges(world).then(this, [this, id](const Result<QList<Challenge>> &r) {
        Client *c = find(id);
        if (!c)
            return;
        if (!r) {
            sendError(c, PErr::NotFound, u"the challenges cannot be read: %1"_s.arg(r.error().message));
            return;
        }
        QList<protocol::ChallengeEntry> list;
        for (const Challenge &ch : r.value())
            list.append({ch.id, ch.name, ch.worldId, ch.difficulty});
        send(c, textFrame(protocol::challenges(c->info.worldId, list)));
    });
}

template <>
void SessionServer::handle<protocol::ChallengeRoll>(Client *c, const protocol::ChallengeRoll &m)
{
    if (!m_challengeBook) {
        sendError(c, PErr::NotFound, u"this session has no challenges"_s);
        return;
    }
    const QString id = c->info.id;
    m_challengeBook->challenge(m.challengeId).then(this, [this, id, m](const Result<std::optional<Challenge>> &r) {
        Client *c = find(id);
        if (!c)
            return;
        const bool visible = r && r.value()
            && (r.value()->worldId == c->info.worldId
                || (c->info.role == session::Role::Dm && c->info.worldId == session::AllWorlds));
        if (!visible) {
            sendError(c, PErr::NotFound, u"no challenge \"%1\" in world %2"_s.arg(m.challengeId.left(80), c->info.worldId));
            return;
        }
        const Challenge &ch = *r.value();
        // The engine wants UUIDs: a character the player named ("Aria") gets a
        // stable name-based id in that world, and its name is kept for display.
        QString characterId = m.characterId;
        if (!ids::isUuid(characterId)) {
            characterId = ids::characterUuid(ch.worldId, m.characterId);
            if (m_names.value(characterId) != m.characterId.trimmed()) {
                m_names.insert(characterId, m.characterId.trimmed());
                m_challengeBook->setDisplayName(u"character"_s, characterId, m.characterId);
            }
        }
        // The roll itself is the producer's (d20 + modifier against the difficulty).
        ChallengeRollOutcome outcome = m_challenges.resolve(ch.id, ch.name, ch.worldId, characterId, ch.difficulty,
                                                            m.modifier, m_config.sessionId);
        outcome.published.then(this, [this, id](const PublishResult &published) {
            if (Client *c = find(id)) {
                if (published)
                    send(c, textFrame(protocol::published(published.value())));
                else
                    sendError(c, PErr::BadMessage, u"the roll could not be recorded: %1"_s.arg(published.error().message));
            }
        });
    });
}

} // namespace eventdesk
