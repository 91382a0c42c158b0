// notify: the DM's webhooks (bus/Webhooks.h) — add, list, remove, the latest
// deliveries, and a test POST of a sample event to a URL.
#include "Cli.h"

#include "DeskDatabase.h"
#include "Webhooks.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

// One POST, waited for; 0 and the error when nothing answered.
std::pair<int, QString> postOnce(const QString &url, const QByteArray &body, int timeoutMs)
{
    QNetworkAccessManager net;
    QNetworkRequest request{QUrl(url)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("EventDesk/" EVENTDESK_VERSION));
    request.setRawHeader("Idempotency-Key", "evd-test-" + QByteArray::number(QDateTime::currentMSecsSinceEpoch()));
    request.setTransferTimeout(timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    std::unique_ptr<QNetworkReply> reply(net.post(request, body));
    QEventLoop loop;
    QObject::connect(reply.get(), &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    return {status, status ? QString() : reply->errorString().replace(url, webhook::redact(url))};
}

} // namespace

int notifyCommand(const QStringList &args)
{
    CommandParser p(u"notify"_s,
                    u"Webhooks: POST chosen events to a URL (generic JSON, Discord or Slack), queued durably and "
                    "retried. 'serve' and the window deliver them."_s,
                    u"add|list|remove|log|test"_s,
                    u"add: a rule (prints its id); list; remove ID; log: the latest deliveries; test URL: send a sample."_s);
    const QCommandLineOption urlOption(u"url"_s, u"Where to POST (add)."_s, u"url"_s);
    const QCommandLineOption formatOption(u"format"_s, u"json (default), discord or slack (add, test)."_s, u"format"_s, u"json"_s);
    const QCommandLineOption typeOption(u"type"_s, u"Only this event type (repeatable; default: every type)."_s, u"type"_s);
    const QCommandLineOption worldOption(u"world"_s, u"Only this world (repeatable; default: every world)."_s, u"world"_s);
    const QCommandLineOption templateOption(u"template"_s,
                                            u"The message, e.g. '{character} {succeeded|failed} at {challenge} "
                                            "({roll} → {total})'."_s, u"text"_s);
    const QCommandLineOption limitOption(u"limit"_s, u"log: how many (default 20)."_s, u"n"_s);
    const QCommandLineOption timeoutOption(u"timeout"_s, u"add, test: seconds a delivery waits for the answer (default 10, at most 300)."_s, u"s"_s);
    for (const auto &o : {urlOption, formatOption, typeOption, worldOption, templateOption, limitOption, timeoutOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    const QStringList positional = p.parser().positionalArguments();
    const QString action = positional.value(0);
    QCommandLineParser &parser = p.parser();

    if (action == u"test"_s) {
        if (positional.size() != 2)
            return usage(u"notify test needs the URL: eventdesk notify test https://…"_s);
        WebhookRule rule;
        rule.url = positional.at(1);
        rule.format = parser.value(formatOption);
        rule.messageTemplate = parser.value(templateOption);
        if (auto why = webhook::checkUrl(rule.url))
            return usage(*why);
        if (!webhook::Formats.contains(rule.format))
            return usage(u"--format must be json, discord or slack, not '%1'"_s.arg(rule.format.left(20)));
        int status = ExitOk;
        const auto timeout = p.integer(u"timeout"_s, 10, 1, 300, &status);
        if (!timeout)
            return status;
        const auto [code, error] = postOnce(rule.url, webhook::body(rule, webhook::sample(), {}), int(*timeout) * 1000);
        if (code >= 200 && code < 300) {
            printOut(u"delivered to %1: HTTP %2\n"_s.arg(webhook::redact(rule.url)).arg(code).toUtf8());
            return ExitOk;
        }
        return fail(code ? u"%1 answered HTTP %2"_s.arg(webhook::redact(rule.url)).arg(code)
                         : u"%1 did not answer: %2"_s.arg(webhook::redact(rule.url), error));
    }
    if (action != u"add"_s && action != u"list"_s && action != u"remove"_s && action != u"log"_s)
        return usage(u"notify needs add, list, remove, log or test"_s);

    const bool reads = action == u"list"_s || action == u"log"_s;
    auto opened = BusHandle::open(p.busConfig(reads));
    if (!opened)
        return failWith(opened.error());
    DeskDatabase *desk = opened.value()->desk();
    if (!desk)
        return reads ? ExitOk : fail(u"EventDesk's own database cannot be written beside %1"_s.arg(opened.value()->location()));
    WebhookBook book(*desk);

    if (action == u"add"_s) {
        if (positional.size() != 1 || !parser.isSet(urlOption))
            return usage(u"notify add needs --url"_s);
        WebhookRule rule;
        rule.url = parser.value(urlOption);
        rule.format = parser.value(formatOption);
        rule.types = parser.values(typeOption);
        rule.worlds = parser.values(worldOption);
        rule.messageTemplate = parser.value(templateOption);
        int status = ExitOk;
        const auto timeout = p.integer(u"timeout"_s, 10, 1, 300, &status);
        if (!timeout)
            return status;
        rule.timeoutMs = int(*timeout) * 1000;
        const Result<qint64> r = wait(book.addRule(rule));
        if (!r)
            return failWith(r.error());
        printOut(QByteArray::number(r.value()) + '\n');
        return ExitOk;
    }
    if (action == u"remove"_s) {
        bool ok = false;
        const qint64 id = positional.value(1).toLongLong(&ok);
        if (positional.size() != 2 || !ok)
            return usage(u"notify remove needs the rule's id (notify list shows them)"_s);
        const Result<QList<WebhookRule>> rules = wait(book.rules());
        if (!rules)
            return fail(rules.error().message);
        if (std::none_of(rules->cbegin(), rules->cend(), [id](const WebhookRule &r) { return r.id == id; }))
            return fail(u"no webhook %1"_s.arg(id));
        const Result<bool> r = wait(book.removeRule(id));
        return r ? ExitOk : fail(r.error().message);
    }
    if (action == u"list"_s) {
        const Result<QList<WebhookRule>> rules = wait(book.rules());
        if (!rules)
            return fail(rules.error().message);
        QByteArray out;
        for (const WebhookRule &r : rules.value())
            out += u"%1  %2  %3  types: %4  worlds: %5  timeout %6 s%7\n"_s
                       .arg(r.id).arg(r.format, -7).arg(webhook::redact(r.url))
                       .arg(r.types.isEmpty() ? u"all"_s : r.types.join(u", "_s),
                            r.worlds.isEmpty() ? u"all"_s : r.worlds.join(u", "_s))
                       .arg(r.timeoutMs / 1000)
                       .arg(r.enabled ? QString() : u"  (off)"_s)
                       .toUtf8();
        printOut(out);
        return ExitOk;
    }
    int status = ExitOk;
    const auto limit = p.integer(u"limit"_s, 20, 1, 10000, &status);
    if (!limit)
        return status;
    const Result<QList<WebhookDelivery>> log = wait(book.recentDeliveries(int(*limit)));
    if (!log)
        return fail(log.error().message);
    const Result<OutboxCounts> counts = wait(book.outboxCounts());
    if (!counts)
        return fail(counts.error().message);
    // The outbox's size first: it is bounded (the newest 1,000 settled per rule, 7 days at most).
    QByteArray out = u"outbox: %1 deliveries (%2 pending, %3 delivered, %4 failed)\n"_s
                         .arg(counts->total()).arg(counts->pending).arg(counts->delivered).arg(counts->failed).toUtf8();
    for (const WebhookDelivery &d : log.value())
        out += u"%1  event %2  %3  %4  attempts %5%6%7\n"_s
                   .arg(d.updatedAt).arg(d.eventId).arg(d.state, -9).arg(d.url).arg(d.attempts)
                   .arg(d.lastStatus ? u"  HTTP %1"_s.arg(d.lastStatus) : QString(),
                        d.lastError.isEmpty() ? QString() : u"  "_s + d.lastError)
                   .toUtf8();
    printOut(out);
    return ExitOk;
}

} // namespace eventdesk::app
