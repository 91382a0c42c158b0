// The metrics of one bus host (`serve`, or the window while hosting), in the
// Prometheus text format 0.0.4, for GET /metrics. Off unless asked for.
//
// Counters count from this process's start (Prometheus copes with restarts);
// gauges are read when scraped. Events appended are counted from the log
// itself — every event past the head at start, whoever wrote it — so they
// match what was published by this process, the engine or another EventDesk.
// World is a label on one series only, and only for the first MaxWorldLabels
// worlds seen; later ones are summed under world="_other", so that a log with
// thousands of worlds cannot blow up the scrape.
#pragma once

#include "Ports.h"
#include "Transport.h"

#include <QHash>
#include <QMutex>
#include <QObject>

#include <array>
#include <functional>
#include <memory>

namespace eventdesk {

class SessionServer;
class WebhookDispatcher;
class Subscriber;

class Metrics final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Metrics)
public:
    static constexpr int MaxWorldLabels = 32;
    // Publish latency buckets, seconds.
    static constexpr std::array<double, 12> Buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

    Metrics(EventStore &store, Notifier &notifier, QObject *parent = nullptr);
    ~Metrics() override;

    // Starts counting from the log's head now.
    void start();
    bool isCounting() const { return m_counting; }
    // A named subscriber whose lag (head − cursor) is exported.
    void watchSubscriber(const QString &name, std::function<qint64()> cursor);
    void setSession(const SessionServer *session) { m_session = session; }
    void setWebhooks(const WebhookDispatcher *webhooks) { m_webhooks = webhooks; }

    // Thread-safe: publishes complete on the store's thread.
    void observePublish(double seconds, int events, const std::optional<Error> &error);
    void countStoreError();

    // Shown: per-world series by world id (a metrics port of its own).
    // Hidden: none, for the session port, which the players reach too.
    enum class WorldLabels { Shown, Hidden };
    QByteArray render(WorldLabels worlds = WorldLabels::Shown) const;
    // GET /metrics; anything else 404.
    session::HttpResponse answer(const session::HttpRequest &request, WorldLabels worlds = WorldLabels::Shown) const;
    // /metrics on the session port (on: counting starts if it has not), or no
    // longer. The session port is the players' too: its metrics name no world.
    void serveOnSessionPort(SessionServer &server, bool on);

private:
    void count(const QList<StoredEvent> &events);

    EventStore &m_store;
    Notifier &m_notifier;
    std::unique_ptr<Subscriber> m_counter;
    bool m_counting = false;
    qint64 m_head = 0;
    QHash<QString, qint64> m_byType;
    QHash<QString, qint64> m_byWorld;  // at most MaxWorldLabels keys, then "_other"
    QList<std::pair<QString, std::function<qint64()>>> m_subscribers;
    const SessionServer *m_session = nullptr;
    const WebhookDispatcher *m_webhooks = nullptr;

    mutable QMutex m_mutex;  // guards what follows
    std::array<qint64, Buckets.size()> m_bucketCounts{};
    qint64 m_publishCount = 0;
    double m_publishSeconds = 0;
    qint64 m_publishedEvents = 0;
    qint64 m_publishFailures = 0;
    qint64 m_storeErrors = 0;
};

// An EventBus that times every publish into Metrics, and is otherwise the bus
// it wraps: the composition root hands it to the producers it wants measured.
class MeasuredBus final : public EventBus
{
public:
    MeasuredBus(EventBus &inner, Metrics &metrics) : m_inner(inner), m_metrics(metrics) {}
    QFuture<PublishResult> publish(const AppEvent &event) override;
    QFuture<BatchPublishResult> publishBatch(const QList<AppEvent> &events) override;

private:
    EventBus &m_inner;
    Metrics &m_metrics;
};

} // namespace eventdesk
