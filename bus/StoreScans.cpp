#include "StoreScans.h"

#include <QHash>
#include <QPromise>

#include <map>

using namespace Qt::StringLiterals;

namespace eventdesk {

void forEachPage(EventStore &store, qint64 afterId, int pageSize, std::function<bool(const QList<StoredEvent> &)> visit,
                 std::function<void(std::optional<Error>)> done)
{
    store.fetchSince(afterId, pageSize).then([&store, pageSize, visit = std::move(visit), done = std::move(done)](
                                                 const Result<QList<StoredEvent>> &page) mutable {
        if (!page) {
            done(page.error());
            return;
        }
        if (page->isEmpty() || !visit(page.value()) || page->size() < pageSize) {
            done(std::nullopt);
            return;
        }
        forEachPage(store, page->last().id, pageSize, std::move(visit), std::move(done));
    });
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
