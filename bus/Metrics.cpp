#include "Metrics.h"

#include "Webhooks.h"

#include "EventCatalog.h"
#include "BusLog.h"
#include "SessionServer.h"
#include "Subscriber.h"

#include <QElapsedTimer>
#include <QMutexLocker>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

const QString OtherWorlds = u"_other"_s;

// A label value, escaped as the text format wants (backslash, quote, newline).
QByteArray label(const QString &value)
{
    QByteArray out;
    const QByteArray utf8 = value.toUtf8();
    out.reserve(utf8.size() + 2);
    for (const char ch : utf8) {
        if (ch == '\\')
            out += "\\\\";
        else if (ch == '"')
            out += "\\\"";
        else if (ch == '\n')
            out += "\\n";
        else
            out += ch;
    }
    return out;
}

QByteArray number(double v)
{
    return QByteArray::number(v, 'g', 12);
}

struct Writer {
    QByteArray out;
    void family(const char *name, const char *type, const char *help)
    {
        out += "# HELP ";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
    }
    void sample(const char *name, const QByteArray &labels, const QByteArray &value)
    {
        out += name;
        if (!labels.isEmpty())
            out += '{' + labels + '}';
        out += ' ' + value + '\n';
    }
    void sample(const char *name, const QByteArray &labels, qint64 value) { sample(name, labels, QByteArray::number(value)); }
};

} // namespace

Metrics::Metrics(EventStore &store, Notifier &notifier, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_notifier(notifier)
{
}

Metrics::~Metrics() = default;

void Metrics::serveOnSessionPort(SessionServer &server, bool on)
{
    if (on && !m_counting)
        start();
    server.setMetricsHandler(on ? session::Transport::HttpHandler([this](const session::HttpRequest &r) {
        return answer(r, WorldLabels::Hidden);
    }) : session::Transport::HttpHandler());
}

void Metrics::start()
{
    m_store.headId().then(this, [this](const Result<qint64> &head) {
        if (!head) {
            countStoreError();
            qCWarning(lcStore).noquote() << "metrics: cannot read the log's head:" << head.error().message;
        }
        m_head = head ? head.value() : 0;
        m_counter = std::make_unique<Subscriber>(m_store, m_notifier, Subscriber::Options{.startAfter = m_head});
        connect(m_counter.get(), &Subscriber::eventsReceived, this, &Metrics::count);
        connect(m_counter.get(), &Subscriber::errorOccurred, this, [this] { countStoreError(); });
        m_counter->start();
        m_counting = true;
    });
}

void Metrics::count(const QList<StoredEvent> &events)
{
    for (const StoredEvent &row : events) {
        m_head = std::max(m_head, row.id);
        ++m_byType[row.event ? catalog::name(row.event->kind()) : u"_undecodable"_s];
        const QString world = row.event ? row.event->worldId() : QString();
        if (world.isEmpty())
            continue;
        if (m_byWorld.contains(world) || m_byWorld.size() < MaxWorldLabels)
            ++m_byWorld[world];
        else
            ++m_byWorld[OtherWorlds];
    }
}

void Metrics::watchSubscriber(const QString &name, std::function<qint64()> cursor)
{
    m_subscribers.append({name, std::move(cursor)});
}

void Metrics::observePublish(double seconds, int events, const std::optional<Error> &error)
{
    QMutexLocker lock(&m_mutex);
    ++m_publishCount;
    m_publishSeconds += seconds;
    for (size_t i = 0; i < Buckets.size(); ++i)
        if (seconds <= Buckets[i])
            ++m_bucketCounts[i];
    if (!error) {
        m_publishedEvents += events;
        return;
    }
    ++m_publishFailures;
    if (error->code == ErrorCode::Storage || error->code == ErrorCode::Busy || error->code == ErrorCode::Unavailable)
        ++m_storeErrors;
}

void Metrics::countStoreError()
{
    QMutexLocker lock(&m_mutex);
    ++m_storeErrors;
}

QByteArray Metrics::render(WorldLabels worldLabels) const
{
    Writer w;
    w.family("eventdesk_build_info", "gauge", "The EventDesk version serving these metrics.");
    w.sample("eventdesk_build_info", "version=\"" + label(QStringLiteral(EVENTDESK_VERSION)) + '"', 1);

    w.family("eventdesk_events_appended_total", "counter",
             "Events appended to the log since this process started counting, by type (any writer).");
    QStringList types = m_byType.keys();
    types.sort();
    for (const QString &t : types)
        w.sample("eventdesk_events_appended_total", "type=\"" + label(t) + '"', m_byType.value(t));
    if (worldLabels == WorldLabels::Shown) {
        w.family("eventdesk_world_events_appended_total", "counter",
                 "Events appended by world: the first 32 worlds seen by name, the rest as world=\"_other\".");
        QStringList worlds = m_byWorld.keys();
        worlds.sort();
        for (const QString &world : worlds)
            w.sample("eventdesk_world_events_appended_total", "world=\"" + label(world) + '"', m_byWorld.value(world));
    }
    w.family("eventdesk_log_head_id", "gauge", "The newest event id this process has seen.");
    w.sample("eventdesk_log_head_id", {}, m_head);

    w.family("eventdesk_subscriber_lag_events", "gauge", "Events a named subscriber has still to handle (head - cursor).");
    for (const auto &[name, cursor] : m_subscribers)
        w.sample("eventdesk_subscriber_lag_events", "subscriber=\"" + label(name) + '"', std::max<qint64>(0, m_head - cursor()));

    {
        QMutexLocker lock(&m_mutex);
        w.family("eventdesk_publish_duration_seconds", "histogram",
                 "From a publish call of this process to its id being durable, in seconds.");
        for (size_t i = 0; i < Buckets.size(); ++i)
            w.sample("eventdesk_publish_duration_seconds_bucket", "le=\"" + number(Buckets[i]) + '"', m_bucketCounts[i]);
        w.sample("eventdesk_publish_duration_seconds_bucket", "le=\"+Inf\"", m_publishCount);
        w.sample("eventdesk_publish_duration_seconds_sum", {}, number(m_publishSeconds));
        w.sample("eventdesk_publish_duration_seconds_count", {}, m_publishCount);
        w.family("eventdesk_published_events_total", "counter", "Events published by this process (players' rolls, DMs' publishes).");
        w.sample("eventdesk_published_events_total", {}, m_publishedEvents);
        w.family("eventdesk_publish_failures_total", "counter", "Publishes of this process that failed (invalid events included).");
        w.sample("eventdesk_publish_failures_total", {}, m_publishFailures);
        w.family("eventdesk_store_errors_total", "counter", "Reads and writes the store could not do.");
        w.sample("eventdesk_store_errors_total", {}, m_storeErrors);
    }

    if (m_webhooks) {
        const OutboxCounts outbox = m_webhooks->outbox();
        w.family("eventdesk_webhook_outbox_deliveries", "gauge",
                 "Webhook deliveries in the outbox by state, as last counted (settled ones are kept within bounds).");
        w.sample("eventdesk_webhook_outbox_deliveries", "state=\"pending\"", outbox.pending);
        w.sample("eventdesk_webhook_outbox_deliveries", "state=\"delivered\"", outbox.delivered);
        w.sample("eventdesk_webhook_outbox_deliveries", "state=\"failed\"", outbox.failed);
        w.family("eventdesk_webhook_in_flight", "gauge", "Webhook deliveries waiting for their receiver's answer.");
        w.sample("eventdesk_webhook_in_flight", {}, m_webhooks->inFlight());
    }

    if (m_session) {
        int players = 0, dms = 0;
        for (const ClientInfo &c : m_session->clients())
            (c.role == session::Role::Dm ? dms : players) += c.joined ? 1 : 0;
        const SessionServer::Stats stats = m_session->stats();
        w.family("eventdesk_session_clients", "gauge", "Clients joined to the session, by role.");
        w.sample("eventdesk_session_clients", "role=\"player\"", players);
        w.sample("eventdesk_session_clients", "role=\"dm\"", dms);
        w.family("eventdesk_session_pending_connections", "gauge", "Connections that have not joined (yet).");
        w.sample("eventdesk_session_pending_connections", {}, m_session->pendingConnections());
        w.family("eventdesk_session_messages_sent_total", "counter", "Messages handed to clients' sockets.");
        w.sample("eventdesk_session_messages_sent_total", {}, stats.messagesSent);
        w.family("eventdesk_session_clients_dropped_total", "counter",
                 "Joined clients the session closed: too slow to read, flooding, silent, kicked.");
        w.sample("eventdesk_session_clients_dropped_total", {}, stats.clientsDropped);
        w.family("eventdesk_session_refused_total", "counter", "Connections and joins refused, by reason.");
        QStringList reasons = stats.refusedByReason.keys();
        reasons.sort();
        for (const QString &r : reasons)
            w.sample("eventdesk_session_refused_total", "reason=\"" + label(r) + '"', stats.refusedByReason.value(r));
    }
    return w.out;
}

session::HttpResponse Metrics::answer(const session::HttpRequest &request, WorldLabels worlds) const
{
    QByteArray path = request.target;
    if (const qsizetype q = path.indexOf('?'); q >= 0)
        path.truncate(q);
    session::HttpResponse r;
    if (path != "/metrics") {
        r.status = 404;
        r.body = "not found\n";
        return r;
    }
    r.status = 200;
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    r.body = render(worlds);
    return r;
}

QFuture<PublishResult> MeasuredBus::publish(const AppEvent &event)
{
    QElapsedTimer timer;
    timer.start();
    return m_inner.publish(event).then(QtFuture::Launch::Sync, [this, timer](const PublishResult &r) {
        m_metrics.observePublish(double(timer.nsecsElapsed()) / 1e9, 1, r ? std::nullopt : std::optional<Error>(r.error()));
        return r;
    });
}

QFuture<BatchPublishResult> MeasuredBus::publishBatch(const QList<AppEvent> &events)
{
    QElapsedTimer timer;
    timer.start();
    const int n = int(events.size());
    return m_inner.publishBatch(events).then(QtFuture::Launch::Sync, [this, timer, n](const BatchPublishResult &r) {
        m_metrics.observePublish(double(timer.nsecsElapsed()) / 1e9, n, r ? std::nullopt : std::optional<Error>(r.error()));
        return r;
    });
}

} // namespace eventdesk
