#include "EngineRecorder.h"

#include "EngineMessages.h"
#include "Ids.h"
#include "BusLog.h"
#include "Timestamp.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// A JSON string literal for text.
QByteArray jsonString(const QString &text)
{
    const QByteArray array = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

QString roleName(EngineRecorder::Role role)
{
    return role == EngineRecorder::Role::Dm ? u"Dm"_s : u"Spectator"_s;
}

// What a JoinWorldFailed says, in words.
QString joinRefusal(const QJsonObject &error)
{
    const QString type = error.value("type"_L1).toString();
    if (type == "WorldNotFound"_L1)
        return u"the engine has no such world"_s;
    if (type == "DmAlreadyConnected"_L1)
        return u"another user holds the DM's seat of this world"_s;
    if (type == "SpectatorRequiresTarget"_L1)
        return u"the engine wants a player character to spectate (--as-spectator NAME)"_s;
    if (type == "PlayerRequiresPc"_L1)
        return u"the engine wants a player character for that role"_s;
    if (type == "Unauthorized"_L1)
        return u"the engine does not let this user join"_s;
    return u"the engine refused the join (%1)"_s.arg(type.isEmpty() ? u"no reason given"_s : type.left(60));
}

} // namespace

EngineRecorder::EngineRecorder(EventStore &store, Notifier &notifier, Options options, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_notifier(notifier)
    , m_options(std::move(options))
{
    m_userId = m_options.userId.isEmpty()
        ? u"eventdesk-recorder-%1"_s.arg(QRandomGenerator::system()->generate(), 8, 16, QLatin1Char('0'))
        : m_options.userId;
    if (ids::isUuid(m_options.spectate))
        m_spectateId = m_options.spectate;
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &EngineRecorder::connectNow);
    connect(&m_heartbeat, &QTimer::timeout, this, [this] {
        if (m_socket && m_joined)
            m_socket->sendTextMessage(u"{\"type\":\"Heartbeat\"}"_s);
    });
}

EngineRecorder::~EngineRecorder()
{
    if (m_socket)
        m_socket->disconnect(this);
}

QByteArray EngineRecorder::joinMessage(const QString &worldId, Role role, const QString &userId, const QString &spectatePcId)
{
    return "{\"type\":\"JoinWorld\",\"world_id\":" + jsonString(worldId) + ",\"role\":\"" + roleName(role).toLatin1()
        + "\",\"user_id\":" + jsonString(userId) + ",\"pc_id\":null,\"spectate_pc_id\":"
        + (spectatePcId.isEmpty() ? QByteArray("null") : jsonString(spectatePcId)) + '}';
}

void EngineRecorder::start()
{
    if (m_options.role == Role::Dm)
        qCWarning(lcRecord).noquote() << "recording as the DM of" << m_options.worldId << "with user id" << m_userId
                                       << ": the engine gives the DM's seat to this connection, and a DM already "
                                          "connected with the same user id stops getting the table's messages";
    connectNow();
}

void EngineRecorder::stop()
{
    m_stopping = true;
    m_reconnect.stop();
    m_heartbeat.stop();
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->close(QWebSocketProtocol::CloseCodeNormal, u"the recording stops"_s);
    finishIfStopped();
}

void EngineRecorder::connectNow()
{
    if (m_stopping)
        return;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket.release()->deleteLater();
    }
    m_socket = std::make_unique<QWebSocket>();
    // Big enough for the largest message the engine may send, which is kept
    // truncated; bounded, so one message never takes all memory.
    m_socket->setMaxAllowedIncomingMessageSize(quint64(std::max<qint64>(m_options.maxMessageBytes * 16, 16 << 20)));
    m_socket->setMaxAllowedIncomingFrameSize(quint64(std::max<qint64>(m_options.maxMessageBytes * 16, 16 << 20)));
    connect(m_socket.get(), &QWebSocket::connected, this, &EngineRecorder::onConnected);
    connect(m_socket.get(), &QWebSocket::textMessageReceived, this, &EngineRecorder::onText);
    connect(m_socket.get(), &QWebSocket::disconnected, this, &EngineRecorder::onDisconnected);
    connect(m_socket.get(), qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [this] {
        // A connect that never got through says only this, no disconnected().
        if (m_socket && m_socket->state() == QAbstractSocket::UnconnectedState)
            onDisconnected();
    });
    m_socket->open(m_options.engine);
}

void EngineRecorder::onConnected()
{
    m_socket->sendTextMessage(QString::fromUtf8(joinMessage(m_options.worldId, m_options.role, m_userId, m_spectateId)));
}

void EngineRecorder::onDisconnected()
{
    if (!m_socket)
        return;
    QWebSocket *gone = m_socket.release();
    gone->disconnect(this);
    gone->deleteLater();
    m_heartbeat.stop();
    const QString why = gone->closeCode() != QWebSocketProtocol::CloseCodeNormal && !gone->closeReason().isEmpty()
        ? gone->closeReason()
        : gone->error() != QAbstractSocket::UnknownSocketError ? gone->errorString()
                                                                : u"the engine closed the connection"_s;
    const bool wasJoined = std::exchange(m_joined, false);
    m_stats.connected = false;
    if (m_stopping) {
        finishIfStopped();
        return;
    }
    if (wasJoined) {
        m_gapFrom = timestamp::now();
        m_gapReason = why;
        qCWarning(lcRecord).noquote() << "recording: lost" << m_options.engine.toString() << ":" << why << "- reconnecting";
        Q_EMIT disconnected(why);
    }
    scheduleReconnect(why);
}

void EngineRecorder::scheduleReconnect(const QString &why)
{
    // Doubling from backoffMinMs up to backoffMaxMs, each with ±50 % jitter,
    // so that recorders of one engine do not all knock at once after a restart.
    const qint64 base = std::min<qint64>(m_options.backoffMaxMs, qint64(m_options.backoffMinMs) << std::min(m_attempt, 16));
    const qint64 delay = base / 2 + QRandomGenerator::global()->bounded(base + 1);
    ++m_attempt;
    ++m_stats.reconnects;
    if (m_attempt == 1 || m_attempt % 10 == 0)
        qCInfo(lcRecord).noquote() << "recording: cannot reach" << m_options.engine.toString() << "(" << why
                                    << "); trying again in" << delay << "ms";
    m_reconnect.start(int(delay));
}

void EngineRecorder::onText(const QString &text)
{
    const QString receivedAt = timestamp::now();
    QByteArray bytes = text.toUtf8();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    const QJsonObject message = doc.object();
    const QString tag = doc.isObject() ? message.value("type"_L1).toString() : QString();
    if (tag == "Pong"_L1)
        return;
    if (tag == "Response"_L1) {  // the engine answers the one who asked: always ours
        handleReply(message);
        return;
    }
    if (!m_joined) {
        if (tag == "WorldJoined"_L1) {
            m_joined = true;
            m_attempt = 0;
            m_stats.connected = true;
            m_stats.worldName = message.value("snapshot"_L1).toObject().value("world"_L1).toObject().value("name"_L1).toString();
            if (!m_gapFrom.isEmpty())
                keepGap(std::exchange(m_gapFrom, QString()), receivedAt, m_gapReason);
            if (m_options.heartbeatMs > 0)
                m_heartbeat.start(m_options.heartbeatMs);
            if (!m_options.spectate.isEmpty() && m_spectateId.isEmpty() && m_options.role == Role::Spectator) {
                // A name: the world's player characters, to find whose it is.
                m_pcRequest = u"evd-rec-%1"_s.arg(++m_requests);
                m_socket->sendTextMessage(QString::fromUtf8(
                    "{\"type\":\"Request\",\"request_id\":" + jsonString(m_pcRequest)
                    + ",\"payload\":{\"group\":\"PlayerCharacter\",\"payload\":{\"type\":\"ListPlayerCharacters\","
                      "\"world_id\":" + jsonString(m_options.worldId) + ",\"limit\":null,\"offset\":null}}}"));
            }
            qCInfo(lcRecord).noquote() << "recording" << (m_stats.worldName.isEmpty() ? m_options.worldId : m_stats.worldName)
                                        << "from" << m_options.engine.toString() << "as" << roleName(m_options.role)
                                        << m_userId;
            Q_EMIT joined(m_stats.worldName);
            return;
        }
        if (tag == "WorldJoinFailed"_L1 || tag == "Error"_L1) {
            const QString why = tag == "Error"_L1
                ? u"the engine answered the join with an error: %1"_s.arg(message.value("message"_L1).toString().left(200))
                : joinRefusal(message.value("error"_L1).toObject());
            qCWarning(lcRecord).noquote() << "recording:" << why;
            Q_EMIT refused(why);
            stop();
            return;
        }
        return;  // nothing else comes before the join's answer
    }
    ++m_stats.received;
    keep(tag.isEmpty() ? u"EngineUnreadable"_s : tag, std::move(bytes), receivedAt);
}

void EngineRecorder::handleReply(const QJsonObject &message)
{
    if (message.value("request_id"_L1).toString() != m_pcRequest)
        return;
    const QJsonObject result = message.value("result"_L1).toObject();
    QStringList names;
    for (const QJsonValue &pc : result.value("data"_L1).toArray()) {
        const QJsonObject o = pc.toObject();
        names.append(o.value("name"_L1).toString());
        if (o.value("name"_L1).toString().compare(m_options.spectate.trimmed(), Qt::CaseInsensitive) == 0)
            m_spectateId = o.value("id"_L1).toString();
    }
    if (!m_spectateId.isEmpty()) {
        qCInfo(lcRecord).noquote() << "recording: spectating" << m_options.spectate << "(" << m_spectateId << ")";
        return;
    }
    const QString why = result.value("status"_L1).toString() == "Error"_L1
        ? u"the engine did not list the player characters: %1"_s.arg(result.value("message"_L1).toString())
        : u"no player character named %1 in this world (there are: %2); recording all the same"_s.arg(
              m_options.spectate, names.isEmpty() ? u"none"_s : names.join(u", "_s));
    qCWarning(lcRecord).noquote() << "recording:" << why;
    Q_EMIT errorOccurred(why);
}

void EngineRecorder::keep(const QString &tag, QByteArray payload, const QString &receivedAt)
{
    if (payload.size() > m_options.maxMessageBytes) {
        // Kept as far as is sane, said so, never silently cut.
        const qint64 original = payload.size();
        QString head = QString::fromUtf8(payload.left(m_options.maxMessageBytes / 2));
        if (!head.isEmpty() && head.back() == QChar::ReplacementCharacter)
            head.chop(1);
        payload = QJsonDocument(QJsonObject{{u"type"_s, tag},
                                            {u"eventdesk_truncated"_s, QJsonObject{{u"original_bytes"_s, original},
                                                                                   {u"kept_characters"_s, head.size()}}},
                                            {u"head"_s, head}})
                      .toJson(QJsonDocument::Compact);
        ++m_stats.truncated;
        qCWarning(lcRecord).noquote() << "recording: a" << tag << "message of" << original << "bytes is kept truncated";
    }
    if (m_queuedBytes + payload.size() > m_options.maxQueuedBytes) {
        // The disk cannot keep up: dropped, counted, and said in the log.
        if (m_droppedSinceGap++ == 0)
            m_dropFrom = receivedAt;
        ++m_stats.dropped;
        return;
    }
    m_queuedBytes += payload.size();
    m_queue.push_back({tag, std::move(payload), receivedAt, m_options.worldId});
    writeSoon();
}

void EngineRecorder::keepGap(const QString &from, const QString &to, const QString &reason)
{
    const QByteArray payload = engine::gapPayload(m_options.worldId, from, to, m_options.engine.toString(), reason);
    m_queuedBytes += payload.size();
    m_queue.push_back({QString(engine::GapTag), payload, to, m_options.worldId});
    m_stats.lastGapFrom = timestamp::parse(from);
    m_stats.lastGapTo = timestamp::parse(to);
    writeSoon();
}

void EngineRecorder::writeSoon()
{
    if (m_writing || m_writeQueued)
        return;
    m_writeQueued = true;
    // What arrives in this turn of the event loop goes in one transaction.
    QTimer::singleShot(0, this, [this] {
        m_writeQueued = false;
        write();
    });
}

void EngineRecorder::write()
{
    if (m_writing || m_queue.empty())
        return;
    m_writing = true;
    QList<EventStore::RecordedRow> rows;
    const int n = int(std::min<size_t>(m_queue.size(), size_t(std::max(1, m_options.maxRowsPerWrite))));
    rows.reserve(n);
    for (int i = 0; i < n; ++i)
        rows.append(m_queue[size_t(i)]);
    m_store.appendRecorded(rows).then(this, [this, n](const BatchPublishResult &ids) {
        m_writing = false;
        if (!ids) {
            // Kept in memory (within the bound) and tried again: nothing received is let go.
            qCWarning(lcRecord).noquote() << "recording: cannot store" << n << "messages:" << ids.error().message;
            Q_EMIT errorOccurred(ids.error().message);
            QTimer::singleShot(1000, this, &EngineRecorder::write);
            return;
        }
        for (int i = 0; i < n; ++i) {
            m_queuedBytes -= m_queue.front().payload.size();
            m_queue.pop_front();
        }
        m_stats.stored += ids->size();
        if (!ids->isEmpty()) {
            m_stats.lastId = ids->last();
            m_notifier.notifyAppended(ids->last());  // durable first, then shown
        }
        Q_EMIT storedUpTo(m_stats.stored, m_stats.lastId);
        if (m_droppedSinceGap > 0 && m_queuedBytes < m_options.maxQueuedBytes / 2) {
            keepGap(m_dropFrom, timestamp::now(),
                    u"%1 message(s) dropped: the disk could not keep up with the engine"_s.arg(m_droppedSinceGap));
            m_droppedSinceGap = 0;
        }
        if (!m_queue.empty())
            write();
        else
            finishIfStopped();
    });
}

void EngineRecorder::finishIfStopped()
{
    if (!m_stopping || m_writing || !m_queue.empty())
        return;
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState)
        return;  // its close comes back through onDisconnected
    if (!std::exchange(m_done, true))
        Q_EMIT stopped();
}

} // namespace eventdesk
