// Session protocol 2 (DESIGN §5): client messages decoded into values, and the
// server's replies encoded. The log's position is "seq" everywhere (Join's
// last_seq, Joined's head_seq, Published's seq, Replay's from_seq/to_seq);
// protocol 1's *_event_id names are still read. No sockets here, so that the decoder can be tested
// and fuzzed on its own.
#pragma once

#include "AppEvent.h"
#include "SessionMessage.h"

#include <QByteArray>
#include <QJsonValue>

#include <optional>
#include <variant>

namespace eventdesk::protocol {

inline constexpr qsizetype MaxMessageBytes = 64 * 1024;
inline constexpr int ProtocolVersion = 2;

enum class ErrorCode { BadJson, BadMessage, Unauthorized, Forbidden, InvalidEvent, TooLarge, RateLimited, NotFound };
QString errorCodeName(ErrorCode code);

struct ProtocolError {
    ErrorCode code;
    QString message;
};

struct Join {
    session::Role role = session::Role::Player;
    QString worldId;
    QString name;
    QString secret;  // join_code for players, dm_token for DMs
    std::optional<qint64> lastEventId;
    // Without lastEventId: also send the latest `recent` events this client
    // may see (at most MaxRecent) before the live ones. A page opened for the
    // first time then shows where the story is.
    int recent = 0;
};
inline constexpr int MaxRecent = 200;
struct Ping {
    QJsonValue nonce;  // echoed as given (null when absent)
};
struct ChallengeRoll {
    QString challengeId;
    QString characterId;
    int modifier = 0;
};
struct Publish {
    AppEvent event;
};
struct Replay {
    qint64 fromEventId = 0;
    qint64 toEventId = 0;
    QString worldId;  // empty: every world the range holds
};

// The challenges a client may roll (its world's; a DM of "*": every world's).
struct ListChallenges {};

using ClientMessage = std::variant<Join, Ping, ChallengeRoll, Publish, Replay, ListChallenges>;
using Decoded = std::variant<ClientMessage, ProtocolError>;

// One text frame from a client → a message or the error to answer with.
Decoded decodeClientMessage(QByteArrayView text);

// Server → client.
// worldName: the world's display name, when the DM gave it one.
QByteArray joined(const QString &clientId, session::Role role, const QString &worldId, qint64 headEventId,
                  const QString &worldName = {});
struct ChallengeEntry {
    QString id;
    QString name;
    QString worldId;
    int difficulty = 0;
};
// The answer to ListChallenges.
QByteArray challenges(const QString &worldId, const QList<ChallengeEntry> &list);
QByteArray pong(const QJsonValue &nonce);
QByteArray published(qint64 eventId);
// After a Replay, to the DM who asked (an addition to protocol v1: clients ignore unknown types).
QByteArray replayed(qint64 fromEventId, qint64 toEventId, int events, int messages);
QByteArray error(ErrorCode code, const QString &message);
QString roleName(session::Role role);

} // namespace eventdesk::protocol
