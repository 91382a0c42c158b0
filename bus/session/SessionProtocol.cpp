#include "SessionProtocol.h"

#include "EventCodec.h"

#include <QJsonArray>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace eventdesk::protocol {

namespace {

ProtocolError bad(const QString &message) { return {ErrorCode::BadMessage, message}; }

// A required string field of at most maxChars characters.
std::optional<ProtocolError> text(const QJsonObject &o, QLatin1StringView field, QString &out, int maxChars,
                                  bool required = true)
{
    const QJsonValue v = o.value(field);
    if (v.isUndefined() || v.isNull()) {
        if (required)
            return bad(u"missing field \"%1\""_s.arg(field));
        return std::nullopt;
    }
    if (!v.isString())
        return bad(u"field \"%1\" must be a string"_s.arg(field));
    out = v.toString();
    if (out.size() > maxChars)
        return bad(u"field \"%1\" is longer than %2 characters"_s.arg(field).arg(maxChars));
    if (required && out.trimmed().isEmpty())
        return bad(u"field \"%1\" is empty"_s.arg(field));
    return std::nullopt;
}

// A name a person gave (a player, a character): shown to the DM and to other
// players, so it must be text a person reads. Control and format characters
// (bidi overrides, zero-width marks, NUL, line breaks) are refused by name;
// U+200D joins emoji and stays.
std::optional<ProtocolError> name(const QJsonObject &o, QLatin1StringView field, QString &out, int maxChars)
{
    if (auto e = text(o, field, out, maxChars))
        return e;
    for (qsizetype i = 0; i < out.size(); ++i) {
        const QChar ch = out.at(i);
        if (ch.isHighSurrogate() && i + 1 < out.size() && out.at(i + 1).isLowSurrogate()) {
            ++i;
            continue;
        }
        const auto category = ch.category();
        const bool refused = ch.isSurrogate() || category == QChar::Other_Control
            || (category == QChar::Other_Format && ch.unicode() != 0x200D) || category == QChar::Separator_Line
            || category == QChar::Separator_Paragraph;
        if (refused)
            return bad(u"field \"%1\" holds a control character (U+%2): a name is plain text on one line"_s.arg(field).arg(
                int(ch.unicode()), 4, 16, QLatin1Char('0')));
    }
    return std::nullopt;
}

std::optional<ProtocolError> integer(const QJsonObject &o, QLatin1StringView field, qint64 &out, qint64 min, qint64 max)
{
    const QJsonValue v = o.value(field);
    if (v.isUndefined() || v.isNull())
        return bad(u"missing field \"%1\""_s.arg(field));
    if (!v.isDouble() || v.toVariant().typeId() != QMetaType::LongLong)
        return bad(u"field \"%1\" must be an integer"_s.arg(field));
    out = v.toInteger();
    if (out < min || out > max)
        return bad(u"field \"%1\" must be in %2..%3"_s.arg(field).arg(min).arg(max));
    return std::nullopt;
}

Decoded decodeJoin(const QJsonObject &o)
{
    Join j;
    QString role;
    if (auto e = text(o, "role"_L1, role, 16))
        return *e;
    if (role == "player"_L1)
        j.role = session::Role::Player;
    else if (role == "dm"_L1)
        j.role = session::Role::Dm;
    else
        return bad(u"unknown role \"%1\" (player or dm)"_s.arg(role));
    if (auto e = text(o, "world_id"_L1, j.worldId, 200))
        return *e;
    if (j.worldId == session::AllWorlds && j.role != session::Role::Dm)
        return ProtocolError{ErrorCode::Forbidden, u"only a DM may join every world (\"*\")"_s};
    if (auto e = name(o, "name"_L1, j.name, 64))
        return *e;
    const QLatin1StringView secretField = j.role == session::Role::Dm ? "dm_token"_L1 : "join_code"_L1;
    if (auto e = text(o, secretField, j.secret, 256))
        return ProtocolError{ErrorCode::Unauthorized, e->message};
    // Protocol 2 resumes from last_seq; a protocol 1 client's last_event_id means the same.
    const QLatin1StringView lastField = o.contains("last_seq"_L1) ? "last_seq"_L1 : "last_event_id"_L1;
    if (o.contains(lastField) && !o.value(lastField).isNull()) {
        qint64 last = 0;
        if (auto e = integer(o, lastField, last, 0, std::numeric_limits<qint64>::max()))
            return *e;
        j.lastEventId = last;
    }
    if (o.contains("recent"_L1) && !o.value("recent"_L1).isNull()) {
        qint64 recent = 0;
        if (auto e = integer(o, "recent"_L1, recent, 0, MaxRecent))
            return *e;
        j.recent = int(recent);
    }
    return ClientMessage(j);
}

} // namespace

QString errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadJson: return u"bad_json"_s;
    case ErrorCode::BadMessage: return u"bad_message"_s;
    case ErrorCode::Unauthorized: return u"unauthorized"_s;
    case ErrorCode::Forbidden: return u"forbidden"_s;
    case ErrorCode::InvalidEvent: return u"invalid_event"_s;
    case ErrorCode::TooLarge: return u"too_large"_s;
    case ErrorCode::RateLimited: return u"rate_limited"_s;
    case ErrorCode::NotFound: return u"not_found"_s;
    }
    return u"bad_message"_s;
}

QString roleName(session::Role role)
{
    return role == session::Role::Dm ? u"dm"_s : u"player"_s;
}

Decoded decodeClientMessage(QByteArrayView bytes)
{
    Result<QJsonObject> parsed = codec::parseObject(bytes, MaxMessageBytes);
    if (!parsed) {
        if (parsed.error().code == eventdesk::ErrorCode::TooLarge)
            return ProtocolError{ErrorCode::TooLarge, parsed.error().message};
        return ProtocolError{ErrorCode::BadJson, parsed.error().message};
    }
    const QJsonObject &o = *parsed;
    const QJsonValue type = o.value("type"_L1);
    if (!type.isString())
        return bad(u"every message needs a string field \"type\""_s);
    const QString t = type.toString();
    if (t == "Join"_L1)
        return decodeJoin(o);
    if (t == "Ping"_L1) {
        const QJsonValue nonce = o.value("nonce"_L1);
        if (!nonce.isUndefined() && !nonce.isNull() && !nonce.isString() && !nonce.isDouble())
            return bad(u"field \"nonce\" must be a string or a number"_s);
        if (nonce.isString() && nonce.toString().size() > 256)
            return bad(u"field \"nonce\" is longer than 256 characters"_s);
        return ClientMessage(Ping{nonce.isUndefined() ? QJsonValue() : nonce});
    }
    if (t == "ChallengeRoll"_L1) {
        ChallengeRoll r;
        qint64 modifier = 0;
        if (auto e = text(o, "challenge_id"_L1, r.challengeId, 200))
            return *e;
        if (auto e = name(o, "character_id"_L1, r.characterId, 200))
            return *e;
        if (o.contains("modifier"_L1)) {
            if (auto e = integer(o, "modifier"_L1, modifier, -10, 10))
                return *e;
        }
        r.modifier = int(modifier);
        return ClientMessage(r);
    }
    if (t == "ListChallenges"_L1)
        return ClientMessage(ListChallenges{});
    if (t == "Publish"_L1) {
        const QJsonValue event = o.value("event"_L1);
        if (!event.isObject())
            return ProtocolError{ErrorCode::InvalidEvent, u"field \"event\" must be an AppEvent object"_s};
        Result<AppEvent> decoded = codec::fromJson(event.toObject());
        if (!decoded)
            return ProtocolError{ErrorCode::InvalidEvent, decoded.error().message};
        return ClientMessage(Publish{std::move(decoded).value()});
    }
    if (t == "Replay"_L1) {
        Replay r;
        const bool v1 = !o.contains("from_seq"_L1) && o.contains("from_event_id"_L1);
        const QLatin1StringView fromField = v1 ? "from_event_id"_L1 : "from_seq"_L1;
        const QLatin1StringView toField = v1 ? "to_event_id"_L1 : "to_seq"_L1;
        if (auto e = integer(o, fromField, r.fromEventId, 1, std::numeric_limits<qint64>::max()))
            return *e;
        if (auto e = integer(o, toField, r.toEventId, 1, std::numeric_limits<qint64>::max()))
            return *e;
        if (r.toEventId < r.fromEventId)
            return bad(u"%1 is before %2"_s.arg(toField, fromField));
        if (auto e = text(o, "world_id"_L1, r.worldId, 200, false))
            return *e;
        return ClientMessage(r);
    }
    return bad(u"unknown message type \"%1\""_s.arg(t.left(40)));
}

namespace {
QByteArray object(std::initializer_list<std::pair<const char *, QJsonValue>> fields)
{
    QByteArray out = "{";
    bool first = true;
    for (const auto &[key, value] : fields) {
        if (!first)
            out += ',';
        first = false;
        out += '"';
        out += key;
        out += "\":";
        codec::appendValue(out, value);
    }
    out += '}';
    return out;
}
} // namespace

QByteArray joined(const QString &clientId, session::Role role, const QString &worldId, qint64 headEventId,
                  const QString &worldName)
{
    return object({{"type", u"Joined"_s}, {"protocol", ProtocolVersion}, {"client_id", clientId}, {"role", roleName(role)},
                   {"world_id", worldId}, {"head_seq", headEventId},
                   {"world_name", worldName.isEmpty() ? QJsonValue() : QJsonValue(worldName)}});
}

QByteArray challenges(const QString &worldId, const QList<ChallengeEntry> &list)
{
    QJsonArray entries;
    for (const ChallengeEntry &c : list)
        entries.append(QJsonObject{{u"challenge_id"_s, c.id}, {u"name"_s, c.name}, {u"world_id"_s, c.worldId},
                                   {u"difficulty"_s, c.difficulty}});
    return object({{"type", u"Challenges"_s}, {"world_id", worldId}, {"challenges", entries}});
}

QByteArray pong(const QJsonValue &nonce)
{
    return object({{"type", u"Pong"_s}, {"nonce", nonce}});
}

QByteArray published(qint64 eventId)
{
    return object({{"type", u"Published"_s}, {"seq", eventId}});
}

QByteArray replayed(qint64 fromEventId, qint64 toEventId, int events, int messages)
{
    return object({{"type", u"Replayed"_s}, {"from_seq", fromEventId}, {"to_seq", toEventId},
                   {"events", events}, {"messages", messages}});
}

QByteArray error(ErrorCode code, const QString &message)
{
    return object({{"type", u"Error"_s}, {"code", errorCodeName(code)}, {"message", message}});
}

} // namespace eventdesk::protocol
