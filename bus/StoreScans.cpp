#include "StoreScans.h"

#include <QEventLoop>
#include <QHash>
#include <QPointer>
#include <QPromise>

#include <map>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// No filter at all: fetchSince reads it (on Redis, the stream directly).
bool readsEverything(const EventQuery &q)
{
    EventQuery plain;
    plain.afterId = q.afterId;
    plain.limit = q.limit;
    return q == plain;
}

struct PageWalk {
    EventStore &store;
    EventQuery query;
    QPointer<QObject> context;
    bool hasContext = false;
    PageVisit visit;
    PagesDone done;
};

void step(const std::shared_ptr<PageWalk> &walk)
{
    EventQuery &q = walk->query;
    QFuture<Result<QList<StoredEvent>>> page =
        readsEverything(q) ? walk->store.fetchSince(q.afterId, q.limit) : walk->store.fetchPage(q);
    const auto next = [walk](const Result<QList<StoredEvent>> &rows) {
        if (walk->hasContext && !walk->context)
            return;  // its owner is gone: nobody to tell
        if (!rows) {
            walk->done(rows.error());
            return;
        }
        if (rows->isEmpty() || !walk->visit(rows.value()) || rows->size() < walk->query.limit) {
            walk->done(std::nullopt);
            return;
        }
        walk->query.afterId = rows->last().id;
        step(walk);
    };
    if (walk->hasContext && walk->context)
        page.then(walk->context.data(), next);
    else if (!walk->hasContext)
        page.then(next);
}

} // namespace

void forEachPage(EventStore &store, EventQuery query, QObject *context, PageVisit visit, PagesDone done)
{
    query.newestFirst = false;
    query.offset = 0;
    query.limit = std::max(1, query.limit);
    auto walk = std::make_shared<PageWalk>(PageWalk{store, std::move(query), context, context != nullptr,
                                                    std::move(visit), std::move(done)});
    step(walk);
}

void forEachPage(EventStore &store, qint64 afterId, int pageSize, PageVisit visit, PagesDone done)
{
    EventQuery q;
    q.afterId = afterId;
    q.limit = pageSize;
    forEachPage(store, q, nullptr, std::move(visit), std::move(done));
}

std::optional<Error> forEachPageAndWait(EventStore &store, const EventQuery &query, PageVisit visit)
{
    QEventLoop loop;
    std::optional<Error> error;
    bool finished = false;
    forEachPage(store, query, &loop, std::move(visit), [&](std::optional<Error> e) {
        error = std::move(e);
        finished = true;
        loop.quit();
    });
    if (!finished)
        loop.exec();
    return error;
}

QFuture<Result<BusStatistics>> collectStatistics(EventStore &store)
{
    struct Tally {
        BusStatistics st;
        QHash<QString, qint64> types;
        QHash<QString, qint64> worlds;
        std::map<std::pair<QString, QString>, std::pair<qint64, qint64>> challenges;
        QDateTime hourAgo = QDateTime::currentDateTimeUtc().addSecs(-3600);
        QDateTime dayAgo = QDateTime::currentDateTimeUtc().addDays(-1);
        QPromise<Result<BusStatistics>> promise;
    };
    auto t = std::make_shared<Tally>();
    t->promise.start();
    QFuture<Result<BusStatistics>> future = t->promise.future();
    forEachPage(
        store, 0, 5000,
        [t](const QList<StoredEvent> &page) {
            for (const StoredEvent &e : page) {
                BusStatistics &st = t->st;
                ++st.total;
                st.headId = qMax(st.headId, e.id);
                if (e.createdAt.isValid()) {
                    if (!st.firstAt.isValid() || e.createdAt < st.firstAt)
                        st.firstAt = e.createdAt;
                    if (!st.lastAt.isValid() || e.createdAt > st.lastAt)
                        st.lastAt = e.createdAt;
                    st.lastHour += e.createdAt >= t->hourAgo;
                    st.lastDay += e.createdAt >= t->dayAgo;
                }
                ++t->types[e.eventType];
                ++t->worlds[e.event ? e.event->worldId() : QString()];
                if (e.event) {
                    if (const auto *c = std::get_if<events::ChallengeResolved>(&e.event->data())) {
                        auto &[attempts, successes] = t->challenges[{c->worldId, c->characterId}];
                        ++attempts;
                        successes += c->success;
                    }
                }
            }
            return true;
        },
        [t](std::optional<Error> error) {
            if (error) {
                t->promise.addResult(*error);
                t->promise.finish();
                return;
            }
            const auto sorted = [](const QHash<QString, qint64> &counts) {
                QList<BusStatistics::Count> out;
                for (auto it = counts.begin(); it != counts.end(); ++it)
                    out.append({it.key(), it.value()});
                std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
                    return a.count != b.count ? a.count > b.count : a.key < b.key;
                });
                return out;
            };
            t->st.perType = sorted(t->types);
            t->st.perWorld = sorted(t->worlds);
            for (const auto &[key, value] : t->challenges)
                t->st.challenges.append({key.first, key.second, value.first, value.second});
            t->promise.addResult(t->st);
            t->promise.finish();
        });
    return future;
}

} // namespace eventdesk
