// The session server's fan-out: every client's queue of encoded frames,
// live dispatch (each event encoded once), backfill from a client's last id,
// and the DM's replays.
#include "SessionClient.h"

#include "Ids.h"
#include "BusLog.h"
#include "DeskPorts.h"
#include "Subscriber.h"

#include <QTimer>
#include <QUuid>

#include <limits>

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;
using namespace session_detail;

// A reply: written now, after whatever was queued for this client before it.
bool SessionServer::send(Client *c, const QByteArray &frame, int messages)
{
    if (!queue(c, frame, messages))
        return false;
    flush(c, false);
    return true;
}

// Events (live, backfill, replay): written at the start of the next turn of
// the event loop, together with everything else this turn queued for the client.
bool SessionServer::queue(Client *c, const QByteArray &frame, int messages)
{
    if (c->closing)
        return false;
    c->pending.push_back(Client::Chunk{frame, messages});
    c->pendingBytes += frame.size();
    // A burst far past the bound: no need to wait for the heartbeat to see it does not read.
    if (c->unsentBytes() > 4 * m_config.maxQueuedBytes) {
        drop(c, u"over %1 bytes unsent"_s.arg(c->unsentBytes()));
        return false;
    }
    if (!c->queued) {
        c->queued = true;
        m_queued.append(c->info.id);
        if (m_queued.size() == 1)
            QMetaObject::invokeMethod(this, &SessionServer::flushQueued, Qt::QueuedConnection);
    }
    return true;
}

// Coalescing without a timer: the events this turn of the event loop queued
// for a client (one dispatch or several, a backfill's rows, a replay) go to its
// socket in one write at the start of the next turn, straight to the kernel
// (Connection::write). So a quiet session sends each event the moment it
// comes, and a busy one gives each client one write per wake, whatever the
// rate. Past the watermark (a client that does not keep up: Qt holds what the
// kernel would not take) messages wait in our queue, shared with the other
// clients', and follow as it drains (bytesWritten).
//
// With a thousand players those writes take several milliseconds (on
// loopback each also runs the receiver's side of TCP). An event committed
// meanwhile is not left to wait for the next turn: every few clients the
// notifier announces what the store's threads committed since, the live
// subscriber reads it (from the store's memory of its last commits, at once)
// and dispatches it. The clients this loop has not reached yet get it in
// this very write; those it has passed are listed again for the next turn.
void SessionServer::flushQueued()
{
    constexpr qsizetype AnnounceEvery = 32;  // about 0.2 ms of writes
    const QList<QString> ids = std::exchange(m_queued, {});
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (i % AnnounceEvery == AnnounceEvery - 1)
            m_notifier.announcePending();
        if (Client *c = find(ids[i])) {
            c->queued = false;
            if (!c->closing)
                flush(c, false);
        }
    }
}

// all: everything, now (before a close frame).
void SessionServer::flush(Client *c, bool all)
{
    constexpr qint64 SocketWatermark = 256 * 1024;
    // Rounds until the socket holds the watermark: a write the kernel takes
    // whole leaves Qt's buffer empty, and no bytesWritten would come to move
    // the rest of the queue.
    while (!c->pending.empty()) {
        if (!c->conn)
            return;  // the socket is already gone; the client is on its way out
        // The chunks that fit under the watermark, handed over in one write.
        qint64 room = all ? std::numeric_limits<qint64>::max() : SocketWatermark - c->conn->bytesToWrite();
        size_t take = 0;
        qint64 bytes = 0;
        int messages = 0;
        for (; take < c->pending.size() && room > 0; ++take) {
            const Client::Chunk &chunk = c->pending[take];
            bytes += chunk.bytes.size();
            messages += chunk.messages;
            room -= chunk.bytes.size();
        }
        if (take == 0)
            return;
        if (take == 1) {
            c->conn->write(c->pending.front().bytes);  // shared with its audience: no copy
        } else {
            QByteArray gathered;
            gathered.reserve(bytes);
            for (size_t i = 0; i < take; ++i)
                gathered += c->pending[i].bytes;
            c->conn->write(gathered);
        }
        c->pending.erase(c->pending.begin(), c->pending.begin() + qsizetype(take));
        c->pendingBytes -= bytes;
        c->info.messagesSent += messages;
        m_stats.messagesSent += messages;
    }
}

void SessionServer::drop(Client *c, const QString &why)
{
    // It does not read: dropped before its backlog grows our memory. It can resume later.
    qCWarning(lcSession).noquote() << "client" << c->info.id << c->info.name << "dropped:" << why;
    if (!c->closing && c->info.joined)
        ++m_stats.clientsDropped;
    c->closing = true;
    c->pending.clear();
    c->pendingBytes = 0;
    if (c->conn)
        c->conn->abort();
}

void SessionServer::sendError(Client *c, PErr code, const QString &message)
{
    send(c, textFrame(protocol::error(code, message)));
}

void SessionServer::closeClient(Client *c, int closeCode, const QString &reason)
{
    if (c->closing)
        return;
    flush(c, true);
    if (c->info.joined)
        ++m_stats.clientsDropped;
    c->closing = true;
    if (c->conn)
        c->conn->close(closeCode, reason);
}

void SessionServer::backfill(Client *c)
{
    const QString id = c->info.id;
    m_store.fetchSince(c->cursor, BackfillBatch).then(this, [this, id](const Result<QList<StoredEvent>> &rows) {
        Client *c = find(id);
        if (!c || c->closing)
            return;
        if (!rows) {
            qCWarning(lcSession).noquote() << "cannot resume client" << id << ":" << rows.error().message;
            closeClient(c, CloseInternal, u"cannot read the event log"_s);
            return;
        }
        for (const StoredEvent &row : rows.value()) {
            if (row.id <= c->cursor)
                continue;
            c->cursor = row.id;
            if (row.event && session::mayReceive(c->info.role, c->info.worldId, *row.event))
                if (!queue(c, textFrame(session::encodeEventMessage(*row.event, {row.id, row.createdAtText, false, &m_names}))))
                    return;
        }
        // Events dispatched live while we read are fetched too: no gap.
        if (rows->size() >= BackfillBatch || c->cursor < m_liveHead) {
            backfill(c);
            return;
        }
        c->live = true;
    });
}

// Live events are dispatched as they come; flushQueued() gathers what a turn
// of the event loop sent each client into one write.
void SessionServer::receive(const QList<StoredEvent> &events)
{
    for (const StoredEvent &row : events)
        if (row.event)
            openWorld(row.event->worldId());
    dispatch(events);
}

void SessionServer::dispatch(const QList<StoredEvent> &events)
{
    if (events.isEmpty())
        return;
    const qint64 first = events.first().id;
    const qint64 last = events.last().id;
    m_liveHead = std::max(m_liveHead, last);
    // Each event is encoded and framed once. Clients that see the same events
    // (same role and world) share one buffer with this batch's frames for them,
    // handed to each socket in one write: a thousand players cost a thousand
    // writes a batch, not a thousand a message.
    std::vector<QByteArray> frames(size_t(events.size()));
    const auto frameOf = [&](qsizetype i) -> const QByteArray & {
        QByteArray &f = frames[size_t(i)];
        if (f.isEmpty()) {
            const StoredEvent &row = events[i];
            f = textFrame(session::encodeEventMessage(*row.event, {row.id, row.createdAtText, false, &m_names}));
        }
        return f;
    };
    const auto collect = [&](const Client *c, qint64 after, QByteArray &bytes, int &count) {
        for (qsizetype i = 0; i < events.size(); ++i) {
            const StoredEvent &row = events[i];
            if (row.id > after && row.event && session::mayReceive(c->info.role, c->info.worldId, *row.event)) {
                bytes += frameOf(i);
                ++count;
            }
        }
    };
    QHash<QString, std::pair<QByteArray, int>> audiences;
    for (const auto &client : m_clients) {
        Client *c = client.get();
        if (!c->info.joined || !c->live || c->closing || c->cursor >= last)
            continue;
        if (c->cursor < first) {
            const QString key = QString::number(int(c->info.role)) + u'\n' + c->info.worldId;
            auto it = audiences.find(key);
            if (it == audiences.end()) {
                std::pair<QByteArray, int> batch;
                collect(c, 0, batch.first, batch.second);
                it = audiences.insert(key, batch);
            }
            c->cursor = last;
            if (it->second > 0)
                queue(c, it->first, it->second);
        } else {
            // Part of this batch reached it already (its backfill overlapped): the rest only.
            QByteArray bytes;
            int count = 0;
            collect(c, c->cursor, bytes, count);
            c->cursor = last;
            if (count > 0)
                queue(c, bytes, count);
        }
    }
}

QFuture<Result<int>> SessionServer::replay(qint64 fromId, qint64 toId, const QString &worldId, const QString &actor)
{
    EventQuery q;
    q.afterId = fromId - 1;
    q.beforeId = toId + 1;
    q.limit = m_config.maxReplay + 1;
    if (!worldId.isEmpty())
        q.worlds = {worldId};
    return m_store.fetchPage(q).then(this, [this, fromId, toId, worldId, actor](const Result<QList<StoredEvent>> &rows) -> Result<int> {
        if (!rows)
            return rows.error();
        if (rows->size() > m_config.maxReplay)
            return Error{eventdesk::ErrorCode::TooLarge, {},
                         u"that range holds more than %1 events; replay a smaller one"_s.arg(m_config.maxReplay)};
        if (rows->isEmpty())
            return Error{eventdesk::ErrorCode::NotFound, {}, u"no events with ids %1–%2"_s.arg(fromId).arg(toId)};
        int messages = 0;
        QSet<QString> reached;
        for (const StoredEvent &row : rows.value()) {
            if (!row.event)
                continue;
            QByteArray frame;
            for (const auto &client : m_clients) {
                Client *c = client.get();
                if (!c->info.joined || c->closing || !session::mayReceive(c->info.role, c->info.worldId, *row.event))
                    continue;
                if (frame.isEmpty())
                    frame = textFrame(session::encodeEventMessage(*row.event, {row.id, row.createdAtText, true, &m_names}));
                if (queue(c, frame)) {
                    ++messages;
                    reached.insert(c->info.id);
                }
            }
        }
        m_lastReplayEvents = int(rows->size());
        if (m_challengeBook)
            m_challengeBook->audit(actor, u"replay"_s,
                                   u"ids %1–%2%3: %4 events, %5 messages to %6 clients"_s.arg(fromId).arg(toId)
                                       .arg(worldId.isEmpty() ? QString() : u" of world "_s + worldId)
                                       .arg(rows->size()).arg(messages).arg(reached.size()));
        return messages;
    });
}

int SessionServer::audienceFor(const AppEvent &event) const
{
    int n = 0;
    for (const auto &c : m_clients)
        if (c->info.joined && !c->closing && session::mayReceive(c->info.role, c->info.worldId, event))
            ++n;
    return n;
}

} // namespace eventdesk
