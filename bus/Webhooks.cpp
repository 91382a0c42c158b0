#include "Webhooks.h"

#include "DeskDatabase.h"
#include "EngineMessages.h"
#include "EventCatalog.h"
#include "BusLog.h"
#include "SqliteConnection.h"
#include "Subscriber.h"
#include "Timestamp.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSqlQuery>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

QString joined(const QStringList &list)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}

QStringList split(const QString &json)
{
    QStringList out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array())
        out.append(v.toString());
    return out;
}

std::optional<Error> checkRule(const WebhookRule &rule)
{
    if (auto why = webhook::checkUrl(rule.url))
        return Error{ErrorCode::Usage, u"url"_s, *why};
    if (!webhook::Formats.contains(rule.format))
        return Error{ErrorCode::Usage, u"format"_s, u"the format must be json, discord or slack"_s};
    for (const QString &t : rule.types)
        if (!catalog::kindFromName(t) && !engine::areaOf(t))  // an AppEvent type, or one of today's engine's tags
            return Error{ErrorCode::Usage, u"types"_s, u"no event type \"%1\""_s.arg(t.left(60))};
    if (rule.messageTemplate.size() > 1000)
        return Error{ErrorCode::Usage, u"template"_s, u"the template is longer than 1000 characters"_s};
    if (rule.timeoutMs < webhook::MinTimeoutMs || rule.timeoutMs > webhook::MaxTimeoutMs)
        return Error{ErrorCode::Usage, u"timeout"_s, u"the timeout must be 1 to 300 seconds"_s};
    return std::nullopt;
}

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

constexpr qint64 IdleRecheckMs = 5000;

// The rule ids a query of one column lists.
Result<QList<qint64>> ruleIds(SqliteConnection &conn, const QString &sql)
{
    QSqlQuery q(conn.database());
    if (!conn.prepareAndExec(q, sql))
        return conn.lastError(q, u"cannot read the webhooks"_s);
    QList<qint64> ids;
    while (q.next())
        ids.append(q.value(0).toLongLong());
    return ids;
}

// Text for a NOT NULL column: a null QString binds as NULL.
QString text(const QString &s) { return s.isNull() ? u""_s : s; }

} // namespace

QFuture<Result<qint64>> WebhookBook::addRule(const WebhookRule &rule)
{
    if (auto e = checkRule(rule))
        return QtFuture::makeReadyFuture(Result<qint64>(*e));
    return m_desk.writeValue<qint64>([rule](SqliteConnection &conn) -> Result<qint64> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"INSERT INTO eventdesk_webhooks(url, format, types, worlds, template, enabled, created_at, "
                                    "timeout_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"_s,
                                 {rule.url, rule.format, joined(rule.types), joined(rule.worlds), text(rule.messageTemplate),
                                  rule.enabled ? 1 : 0, timestamp::now(), rule.timeoutMs}))
            return conn.lastError(q, u"cannot add the webhook"_s);
        return q.lastInsertId().toLongLong();
    });
}

QFuture<Result<bool>> WebhookBook::updateRule(const WebhookRule &rule)
{
    if (auto e = checkRule(rule))
        return QtFuture::makeReadyFuture(Result<bool>(*e));
    return m_desk.write([rule](SqliteConnection &conn) {
        return conn.exec(u"UPDATE eventdesk_webhooks SET url = ?, format = ?, types = ?, worlds = ?, template = ?, "
                         "enabled = ?, timeout_ms = ? WHERE id = ?"_s,
                         {rule.url, rule.format, joined(rule.types), joined(rule.worlds), text(rule.messageTemplate),
                          rule.enabled ? 1 : 0, rule.timeoutMs, rule.id});
    });
}

QFuture<Result<bool>> WebhookBook::removeRule(qint64 id)
{
    return m_desk.write([id](SqliteConnection &conn) -> std::optional<Error> {
        // Its history goes with it: nothing would show or sweep it after.
        if (auto e = conn.exec(u"DELETE FROM eventdesk_outbox WHERE rule_id = ?"_s, {id}))
            return e;
        return conn.exec(u"DELETE FROM eventdesk_webhooks WHERE id = ?"_s, {id});
    });
}

QFuture<Result<QList<WebhookRule>>> WebhookBook::rules()
{
    return m_desk.read<QList<WebhookRule>>([](SqliteConnection &conn) -> Result<QList<WebhookRule>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT id, url, format, types, worlds, template, enabled, timeout_ms "
                                    "FROM eventdesk_webhooks ORDER BY id"_s))
            return conn.lastError(q, u"cannot read the webhooks"_s);
        QList<WebhookRule> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), split(q.value(3).toString()),
                        split(q.value(4).toString()), q.value(5).toString(), q.value(6).toInt() != 0, q.value(7).toInt()});
        return out;
    });
}

QFuture<Result<QList<WebhookDelivery>>> WebhookBook::recentDeliveries(int limit)
{
    return m_desk.read<QList<WebhookDelivery>>([limit](SqliteConnection &conn) -> Result<QList<WebhookDelivery>> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT o.id, o.rule_id, o.event_id, o.key, o.state, o.attempts, o.last_status, "
                                    "o.last_error, o.updated_at, coalesce(w.url, '') FROM eventdesk_outbox o "
                                    "LEFT JOIN eventdesk_webhooks w ON w.id = o.rule_id ORDER BY o.id DESC LIMIT ?"_s,
                                 {limit}))
            return conn.lastError(q, u"cannot read the deliveries"_s);
        QList<WebhookDelivery> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toLongLong(), q.value(3).toString(),
                        q.value(4).toString(), q.value(5).toInt(), q.value(6).toInt(), q.value(7).toString(),
                        q.value(8).toString(), webhook::redact(q.value(9).toString())});
        return out;
    });
}

QFuture<Result<OutboxCounts>> WebhookBook::outboxCounts()
{
    return m_desk.read<OutboxCounts>([](SqliteConnection &conn) -> Result<OutboxCounts> {
        QSqlQuery q(conn.database());
        if (!conn.prepareAndExec(q, u"SELECT state, count(*) FROM eventdesk_outbox GROUP BY state"_s))
            return conn.lastError(q, u"cannot count the outbox"_s);
        OutboxCounts c;
        while (q.next()) {
            const QString state = q.value(0).toString();
            const qint64 n = q.value(1).toLongLong();
            if (state == u"pending"_s)
                c.pending = n;
            else if (state == u"delivered"_s)
                c.delivered = n;
            else
                c.failed += n;
        }
        return c;
    });
}

QFuture<Result<qint64>> WebhookBook::sweep(int keepPerRule, int keepDays)
{
    const QString before = timestamp::format(QDateTime::currentDateTimeUtc().addDays(-std::max(0, keepDays)));
    return m_desk.writeValue<qint64>([keepPerRule, before](SqliteConnection &conn) -> Result<qint64> {
        const Result<QList<qint64>> ids = ruleIds(conn, u"SELECT DISTINCT rule_id FROM eventdesk_outbox"_s);
        if (!ids)
            return ids.error();
        QSqlQuery q(conn.database());
        // Deliveries of a rule that is gone (removed while another EventDesk still queued for it).
        if (!conn.prepareAndExec(q, u"DELETE FROM eventdesk_outbox WHERE rule_id NOT IN (SELECT id FROM eventdesk_webhooks)"_s))
            return conn.lastError(q, u"cannot sweep the outbox"_s);
        qint64 removed = q.numRowsAffected();
        q.finish();
        for (qint64 rule : ids.value()) {
            // The newest keepPerRule settled rows of the rule stay (and none settled before the cutoff).
            if (!conn.prepareAndExec(q, u"DELETE FROM eventdesk_outbox WHERE rule_id = ? AND state != 'pending' AND "
                                        "(updated_at < ? OR id < coalesce((SELECT id FROM eventdesk_outbox WHERE rule_id = ? "
                                        "AND state != 'pending' ORDER BY id DESC LIMIT 1 OFFSET ?), 0))"_s,
                                     {rule, before, rule, std::max(0, keepPerRule - 1)}))
                return conn.lastError(q, u"cannot sweep the outbox"_s);
            removed += q.numRowsAffected();
            q.finish();
        }
        return removed;
    });
}

WebhookDispatcher::WebhookDispatcher(EventStore &store, Notifier &notifier, DeskDatabase &desk, Options options,
                                     QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_notifier(notifier)
    , m_desk(desk)
    , m_options(options)
    , m_net(std::make_unique<QNetworkAccessManager>())
{
    connect(&m_tick, &QTimer::timeout, this, &WebhookDispatcher::deliverDue);
}

WebhookDispatcher::~WebhookDispatcher()
{
    m_tick.stop();
    // Replies still out are abandoned; their rows stay pending for the next run.
    for (QNetworkReply *r : m_net->findChildren<QNetworkReply *>())
        r->disconnect(this);
}

void WebhookDispatcher::start()
{
    reloadRules();
    static const QString Name = u"webhooks"_s;
    // A first start follows from the head: a new rule does not replay the past.
    m_store.loadCursor(Name).then(this, [this](const Result<qint64> &cursor) {
        const auto begin = [this](qint64) {
            m_subscriber = std::make_unique<Subscriber>(m_store, m_notifier, Subscriber::Options{.name = Name});
            connect(m_subscriber.get(), &Subscriber::eventsReceived, this, &WebhookDispatcher::enqueue);
            m_subscriber->start();
        };
        if (cursor && cursor.value() > 0) {
            begin(cursor.value());
            return;
        }
        m_store.headId().then(this, [this, begin](const Result<qint64> &head) {
            m_store.saveCursor(Name, head ? head.value() : 0).then(this, [begin, head](const Result<bool> &) {
                begin(head ? head.value() : 0);
            });
        });
    });
    m_tick.start(m_options.tickMs);
    deliverDue();
    sweepIfDue(true);
}

// Settled deliveries are kept for the Notifications page, within bounds:
// swept every sweepEvery settled ones and at least once a minute.
void WebhookDispatcher::sweepIfDue(bool now)
{
    if (m_sweeping)
        return;
    if (!now && m_settledSinceSweep < m_options.sweepEvery && nowMs() - m_lastSweepMs < 60000)
        return;
    m_sweeping = true;
    m_settledSinceSweep = 0;
    m_lastSweepMs = nowMs();
    WebhookBook book(m_desk);
    book.sweep(m_options.keepPerRule, m_options.keepDays).then(this, [this, book](const Result<qint64> &swept) mutable {
        if (!swept)
            qCWarning(lcStore).noquote() << "webhooks: cannot sweep the outbox:" << swept.error().message;
        book.outboxCounts().then(this, [this](const Result<OutboxCounts> &counts) {
            m_sweeping = false;
            if (counts)
                m_counts = counts.value();
        });
    });
}

void WebhookDispatcher::reloadRules()
{
    WebhookBook(m_desk).rules().then(this, [this](const Result<QList<WebhookRule>> &r) {
        if (r)
            m_rules = r.value();
    });
}

void WebhookDispatcher::enqueue(const QList<StoredEvent> &events)
{
    struct Row {
        qint64 rule, event;
        QByteArray body;
    };
    QList<Row> rows;
    for (const StoredEvent &e : events)
        for (const WebhookRule &rule : std::as_const(m_rules))
            if (webhook::matches(rule, e))
                rows.append({rule.id, e.id, webhook::body(rule, e, m_names)});
    if (rows.isEmpty())
        return;
    // Queued on the desk's thread before the subscriber's cursor moves on; a
    // batch seen again after a crash adds nothing (the key is unique).
    m_desk.write([rows](SqliteConnection &conn) -> std::optional<Error> {
        const QString now = timestamp::now();
        for (const Row &r : rows)
            // Only for a rule that still exists: one removed since this
            // dispatcher read its rules queues nothing.
            if (auto e = conn.exec(u"INSERT OR IGNORE INTO eventdesk_outbox(rule_id, event_id, key, body, state, attempts, "
                                   "next_at, last_status, last_error, created_at, updated_at) "
                                   "SELECT ?, ?, ?, ?, 'pending', 0, 0, 0, '', ?, ? "
                                   "WHERE EXISTS(SELECT 1 FROM eventdesk_webhooks WHERE id = ?)"_s,
                                   {r.rule, r.event, u"evd-%1-%2"_s.arg(r.rule).arg(r.event), r.body, now, now, r.rule}))
                return e;
        return std::nullopt;
    }).then(this, [this](const Result<bool> &r) {
        if (!r)
            qCWarning(lcStore).noquote() << "webhooks: cannot queue deliveries:" << r.error().message;
        lookNow();
        Q_EMIT deliveriesChanged();
    });
}

// Rows were queued or settled: look at once, or again after the look under way
// (its answer is stale).
void WebhookDispatcher::lookNow()
{
    m_nextDueMs = 0;
    if (m_asking)
        m_lookAgain = true;
    deliverDue();
}

void WebhookDispatcher::deliverDue()
{
    sweepIfDue();
    const int room = m_options.maxInFlight - int(m_inFlight.size());
    // The tick only looks once something is due (as the last look said, or
    // after IdleRecheckMs for what another EventDesk queued meanwhile):
    // an idle outbox costs no transaction.
    if (room <= 0 || m_asking || nowMs() < m_nextDueMs)
        return;
    m_asking = true;
    struct Due {
        WebhookDelivery d;
        QByteArray body;
        QString url;
        int timeoutMs = 10000;
    };
    struct Claimed {
        QList<Due> due;
        qint64 nextDueMs = 0;
    };
    // Claimed in a write transaction: the rows' next attempt moves past this
    // one's timeout, so another EventDesk on the same database (serve and the
    // window) does not send them too; a crash leaves them due again after it.
    // Each rule's own slots: a rule whose receiver holds every one of its
    // slots gets nothing more, and the others are claimed as if it were not there.
    QHash<qint64, int> busy = m_inFlightByRule;
    const int perRule = std::max(1, m_options.perRule);
    m_desk.writeValue<Claimed>([room, busy, perRule](SqliteConnection &conn) -> Result<Claimed> {
        QSqlQuery q(conn.database());
        const qint64 now = nowMs();
        const Result<QList<qint64>> ruleList = ruleIds(conn, u"SELECT id FROM eventdesk_webhooks ORDER BY id"_s);
        if (!ruleList)
            return ruleList.error();
        const QList<qint64> &rules = ruleList.value();
        QList<Due> out;
        int left = room;
        for (const qint64 rule : rules) {
            const int free = std::min(left, perRule - busy.value(rule));
            if (free <= 0)
                continue;
            if (!conn.prepareAndExec(q, u"SELECT o.id, o.rule_id, o.event_id, o.key, o.attempts, o.body, w.url, w.timeout_ms "
                                        "FROM eventdesk_outbox o JOIN eventdesk_webhooks w ON w.id = o.rule_id "
                                        "WHERE o.rule_id = ? AND o.state = 'pending' AND o.next_at <= ? "
                                        "ORDER BY o.next_at, o.id LIMIT ?"_s,
                                     {rule, now, free}))
                return conn.lastError(q, u"cannot read the outbox"_s);
            while (q.next()) {
                Due due;
                due.d.id = q.value(0).toLongLong();
                due.d.ruleId = q.value(1).toLongLong();
                due.d.eventId = q.value(2).toLongLong();
                due.d.key = q.value(3).toString();
                due.d.attempts = q.value(4).toInt();
                due.body = q.value(5).toByteArray();
                due.url = q.value(6).toString();
                due.timeoutMs = q.value(7).toInt();
                out.append(due);
                --left;
            }
            q.finish();
        }
        // Claimed past the rule's own timeout, so another EventDesk on this
        // database does not send them too; a crash leaves them due after it.
        for (const Due &d : out)
            if (auto e = conn.exec(u"UPDATE eventdesk_outbox SET next_at = ? WHERE id = ?"_s, {now + d.timeoutMs + 5000, d.d.id}))
                return *e;
        // When to look next: the earliest due row of a rule with a slot still
        // free. A rule whose slots are all taken is looked at again when one
        // of its deliveries settles (finished → lookNow), not in a loop meanwhile.
        QHash<qint64, int> taken = busy;
        for (const Due &d : out)
            ++taken[d.d.ruleId];
        qint64 next = now + IdleRecheckMs;
        for (const qint64 rule : rules) {
            if (taken.value(rule) >= perRule)
                continue;
            if (!conn.prepareAndExec(q, u"SELECT min(next_at) FROM eventdesk_outbox WHERE rule_id = ? AND state = 'pending'"_s,
                                     {rule}))
                return conn.lastError(q, u"cannot read the outbox"_s);
            if (q.next() && !q.value(0).isNull())
                next = std::min(next, q.value(0).toLongLong());
            q.finish();
        }
        // Due now but no room at all: the next settled delivery looks again.
        if (left <= 0 && next <= now)
            next = now + IdleRecheckMs;
        return Claimed{out, next};
    }).then(this, [this](const Result<Claimed> &claimed) {
        m_asking = false;
        if (!claimed) {
            qCWarning(lcStore).noquote() << "webhooks:" << claimed.error().message;
            return;
        }
        m_nextDueMs = std::exchange(m_lookAgain, false) ? 0 : claimed->nextDueMs;
        for (const Due &d : claimed->due)
            send(d.d, d.body, d.url, d.timeoutMs);
        // Idle, with deliveries settled since the last sweep: the outbox is brought within its bounds now.
        if (claimed->due.isEmpty() && m_inFlight.isEmpty() && m_settledSinceSweep > 0)
            sweepIfDue(true);
        if (m_nextDueMs == 0)
            deliverDue();
    });
}

void WebhookDispatcher::send(const WebhookDelivery &d, const QByteArray &body, const QString &url, int timeoutMs)
{
    QNetworkRequest request{QUrl(url)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("EventDesk/" EVENTDESK_VERSION));
    request.setRawHeader("Idempotency-Key", d.key.toUtf8());
    request.setTransferTimeout(timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    m_inFlight.insert(d.id);
    ++m_inFlightByRule[d.ruleId];
    QNetworkReply *reply = m_net->post(request, body);
    const int attempts = d.attempts + 1;
    const QString redacted = webhook::redact(url);
    connect(reply, &QNetworkReply::finished, this, [this, reply, id = d.id, rule = d.ruleId, attempts, redacted] {
        finished(reply, id, rule, attempts, redacted);
    });
}

void WebhookDispatcher::finished(QNetworkReply *reply, qint64 deliveryId, qint64 ruleId, int attempts, const QString &redacted)
{
    reply->deleteLater();
    m_inFlight.remove(deliveryId);
    if (--m_inFlightByRule[ruleId] <= 0)
        m_inFlightByRule.remove(ruleId);
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QString state = u"pending"_s;
    QString error;
    qint64 nextAt = 0;
    if (status >= 200 && status < 300) {
        state = u"delivered"_s;
    } else {
        const bool retry = status == 0 || status == 429 || status >= 500;
        error = status ? u"HTTP %1"_s.arg(status) : reply->errorString().replace(reply->url().toString(), redacted);
        if (!retry || attempts >= webhook::MaxAttempts) {
            state = u"failed"_s;
        } else {
            qint64 waitMs = qint64(webhook::backoffSeconds(attempts)) * 1000;
            const int jitter = m_options.jitterPercent;
            if (jitter > 0)
                waitMs = waitMs * (100 - jitter + QRandomGenerator::global()->bounded(2 * jitter + 1)) / 100;
            bool ok = false;
            const int retryAfter = reply->rawHeader("Retry-After").trimmed().toInt(&ok);
            if (status == 429 && ok && retryAfter >= 0)
                waitMs = std::max<qint64>(waitMs, std::min(3600, retryAfter) * 1000LL);
            nextAt = nowMs() + waitMs;
        }
        qCInfo(lcStore).noquote() << "webhook to" << redacted << "attempt" << attempts << ":" << error
                                  << (state == u"failed"_s ? "- given up" : "- will retry");
    }
    m_desk.write([deliveryId, state, attempts, nextAt, status, error](SqliteConnection &conn) {
        return conn.exec(u"UPDATE eventdesk_outbox SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
                         "last_error = ?, updated_at = ? WHERE id = ?"_s,
                         {state, attempts, nextAt, status, text(error), timestamp::now(), deliveryId});
    }).then(this, [this, state](const Result<bool> &) {
        if (state != u"pending"_s)
            ++m_settledSinceSweep;
        Q_EMIT deliveriesChanged();
        lookNow();
    });
}

} // namespace eventdesk
