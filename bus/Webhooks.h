// Webhooks: the DM's out-of-band alerts ("tell the group's Discord when a
// challenge fails"). A rule picks event types and worlds and names a URL and a
// body format: a generic JSON POST, or Discord's or Slack's incoming-webhook
// body, with a short message template.
//
// Deliveries go through an outbox in EventDesk's own database: a named
// subscriber ("webhooks") puts one row per event and rule into it (its key,
// rule:event, is unique, so a replayed batch adds nothing), and the dispatcher
// POSTs due rows with Qt's asynchronous network access — never on the bus's
// or the window's time. 2xx: delivered. 429, 5xx, a timeout or a network
// error: retried with backoff (Retry-After honoured). Any other 4xx: failed,
// not retried. A restart sends what was not delivered, again with the same
// Idempotency-Key header: at least once, and a receiver can make it once.
// URLs are never logged whole (a Discord webhook's path is its secret).
#pragma once

#include "Ports.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace eventdesk {

class DeskDatabase;
class Subscriber;

struct WebhookRule {
    qint64 id = 0;
    QString url;
    QString format = QStringLiteral("json");  // json, discord or slack
    QStringList types;   // event type names; empty: every type
    QStringList worlds;  // world ids; empty: every world (and events without one)
    QString messageTemplate;  // empty: the default for the event's type
    bool enabled = true;
    int timeoutMs = 10000;  // how long a delivery waits for the receiver's answer (1..300 s)
};

// How many deliveries the outbox holds, by state.
struct OutboxCounts {
    qint64 pending = 0;
    qint64 delivered = 0;
    qint64 failed = 0;
    qint64 total() const { return pending + delivered + failed; }
};

struct WebhookDelivery {
    qint64 id = 0;
    qint64 ruleId = 0;
    qint64 eventId = 0;
    QString key;         // the Idempotency-Key
    QString state;       // pending, delivered, failed
    int attempts = 0;
    int lastStatus = 0;  // HTTP status of the last attempt (0: none, or no answer)
    QString lastError;
    QString updatedAt;
    QString url;         // the rule's, redacted
};

namespace webhook {

inline constexpr int MaxAttempts = 12;
inline constexpr int MinTimeoutMs = 1000, MaxTimeoutMs = 300000;
inline const QStringList Formats = {QStringLiteral("json"), QStringLiteral("discord"), QStringLiteral("slack")};

// "https://discord.com/…": scheme, host and port only.
QString redact(const QString &url);
// An http(s) URL with a host, or why not.
std::optional<QString> checkUrl(const QString &url);
bool matches(const WebhookRule &rule, const StoredEvent &row);
QString defaultTemplate(EventKind kind);
// Fills {character} {challenge} {roll} {total} {modifier} {succeeded|failed}
// {world} {type} {summary} {event_name} {outcome} {id}; names: display names.
QString render(const QString &messageTemplate, const StoredEvent &row, const QHash<QString, QString> &names);
// The POST body for the rule's format.
QByteArray body(const WebhookRule &rule, const StoredEvent &row, const QHash<QString, QString> &names);
// A sample event for `notify test` and the window's Send test.
StoredEvent sample();
// Seconds before attempt n+1 after n failed ones (n ≥ 1), without jitter.
int backoffSeconds(int attempts);

} // namespace webhook

// The rules and the outbox, in EventDesk's own database.
class WebhookBook
{
public:
    explicit WebhookBook(DeskDatabase &desk) : m_desk(desk) {}
    QFuture<Result<qint64>> addRule(const WebhookRule &rule);
    QFuture<Result<bool>> updateRule(const WebhookRule &rule);
    QFuture<Result<bool>> removeRule(qint64 id);
    QFuture<Result<QList<WebhookRule>>> rules();
    QFuture<Result<QList<WebhookDelivery>>> recentDeliveries(int limit);
    QFuture<Result<OutboxCounts>> outboxCounts();
    // Settled deliveries (delivered or failed) beyond the newest keepPerRule of
    // each rule, or settled before keepDays ago, are deleted; pending ones stay.
    QFuture<Result<qint64>> sweep(int keepPerRule, int keepDays);

private:
    DeskDatabase &m_desk;
};

class WebhookDispatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebhookDispatcher)
public:
    // Each rule has perRule delivery slots of its own, so a receiver that
    // never answers holds back only its own rule; maxInFlight bounds them all.
    struct Options {
        int tickMs = 500;
        int perRule = 2;
        int maxInFlight = 64;
        int jitterPercent = 20;
        int keepPerRule = 1000;    // settled deliveries kept per rule (the Notifications page's history)
        int keepDays = 7;          // and never longer than this
        int sweepEvery = 500;      // settled deliveries between two sweeps (and at least once a minute)
    };
    WebhookDispatcher(EventStore &store, Notifier &notifier, DeskDatabase &desk, Options options,
                      QObject *parent = nullptr);
    ~WebhookDispatcher() override;

    // Follows the log from where it stopped (a first start: from the head now)
    // and delivers what is due, the outbox left by an earlier run included.
    void start();
    void reloadRules();
    void setDisplayNames(QHash<QString, QString> names) { m_names = std::move(names); }
    int inFlight() const { return int(m_inFlight.size()); }
    // The outbox's rows by state, as last counted (at start and at each sweep).
    OutboxCounts outbox() const { return m_counts; }
    // The rules and the outbox it delivers from (the Notifications page edits them).
    WebhookBook book() const { return WebhookBook(m_desk); }

Q_SIGNALS:
    void deliveriesChanged();

private:
    void enqueue(const QList<StoredEvent> &events);
    void deliverDue();
    void lookNow();
    void send(const WebhookDelivery &d, const QByteArray &body, const QString &url, int timeoutMs);
    void finished(QNetworkReply *reply, qint64 deliveryId, qint64 ruleId, int attempts, const QString &redacted);
    void sweepIfDue(bool now = false);

    EventStore &m_store;
    Notifier &m_notifier;
    DeskDatabase &m_desk;
    Options m_options;
    std::unique_ptr<Subscriber> m_subscriber;
    std::unique_ptr<QNetworkAccessManager> m_net;
    QList<WebhookRule> m_rules;
    QHash<QString, QString> m_names;
    QSet<qint64> m_inFlight;
    QHash<qint64, int> m_inFlightByRule;
    OutboxCounts m_counts;
    int m_settledSinceSweep = 0;
    qint64 m_lastSweepMs = 0;
    bool m_sweeping = false;
    QTimer m_tick;
    bool m_asking = false;
    qint64 m_nextDueMs = 0;  // when the outbox next has something due (ms since the epoch)
    bool m_lookAgain = false;  // rows were queued or settled during a look: its answer is stale
};

} // namespace eventdesk
