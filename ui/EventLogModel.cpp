#include "EventLogModel.h"

#include "EventCodec.h"
#include "Subscriber.h"

#include <QColor>
#include <QFont>
#include <QIcon>
#include <QLocale>
#include <QPainter>
#include <QPixmap>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

QIcon categoryIcon(Category c)
{
    static QHash<int, QIcon> cache;
    if (!cache.contains(int(c))) {
        QPixmap pm(12, 12);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        p.setBrush(EventLogModel::categoryColor(c));
        p.setPen(Qt::NoPen);
        p.drawEllipse(1, 1, 10, 10);
        cache.insert(int(c), QIcon(pm));
    }
    return cache.value(int(c));
}

} // namespace

EventLogModel::EventLogModel(EventStore &store, Notifier &notifier, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(0);  // one insert per event-loop turn
    connect(&m_coalesce, &QTimer::timeout, this, &EventLogModel::flushLive);
    // Live rows: everything after what is on disk when the model starts. The
    // head is asked for before the first page, on the same reader thread, so
    // the subscriber starts before that page arrives and misses nothing; the
    // GUI thread does not wait for either.
    Notifier *wakes = &notifier;
    store.headId().then(this, [this, wakes](const Result<qint64> &head) {
        m_live = std::make_unique<Subscriber>(m_store, *wakes, Subscriber::Options{.startAfter = head ? head.value() : 0});
        connect(m_live.get(), &Subscriber::eventsReceived, this, &EventLogModel::onLive);
        connect(m_live.get(), &Subscriber::logWentBack, this, [this](qint64 was, qint64 head) {
            Q_EMIT logWentBack(was, head);
            reload();  // the rows on screen belong to the old log
        });
        m_live->start();
    });
    // The first page is asked for from the event loop, not from here: a store
    // that answers at once would otherwise reset the model and emit loaded()
    // before whoever constructs it has connected to it.
    QMetaObject::invokeMethod(this, [this] { reload(); }, Qt::QueuedConnection);
}

EventLogModel::~EventLogModel() = default;

void EventLogModel::setDisplayNames(QHash<QString, QString> names)
{
    if (names == m_names)
        return;
    m_names = std::move(names);
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, WorldColumn), index(rowCount() - 1, SummaryColumn));
}

// A job's progress names only its batch or request: remember what each job is
// for (from its Queued row, whenever one passes through) to say it instead.
void EventLogModel::learnJobs(const QList<StoredEvent> &rows)
{
    for (const StoredEvent &row : rows) {
        if (!row.event)
            continue;
        if (const auto *q = row.event->as<events::GenerationBatchQueued>())
            m_jobs.insert(q->batchId, {q->assetType + u" for "_s + q->entityType + u' ', q->entityId});
        else if (const auto *s = row.event->as<events::SuggestionQueued>())
            m_jobs.insert(s->requestId, {s->fieldType + u" suggestion"_s, QString()});
    }
    if (m_jobs.size() > 20000)
        m_jobs.clear();  // bounded; the next rows teach it again
}

QString EventLogModel::displaySummary(const AppEvent &event) const
{
    QString text = event.summary();
    if (m_jobs.isEmpty() && m_names.isEmpty())
        return text;
    // Only the event's own ids are looked up: a handful per row, never every name.
    const QJsonObject fields = codec::fieldsToJson(event);
    const bool queued = event.kind() == EventKind::GenerationBatchQueued || event.kind() == EventKind::SuggestionQueued;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (!it.key().endsWith(u"_id"_s) || !it.value().isString())
            continue;
        const QString id = it.value().toString();
        if (id.isEmpty())
            continue;
        if (const auto job = m_jobs.constFind(id); job != m_jobs.constEnd() && !queued)
            text.replace(id, u"(%1%2)"_s.arg(job->first, job->second.isEmpty() ? QString() : displayName(job->second)));
        else if (const auto name = m_names.constFind(id); name != m_names.constEnd())
            text.replace(id, *name);
    }
    return text;
}

QColor EventLogModel::categoryColor(Category category)
{
    switch (category) {
    case Category::Story: return QColor(0x3b, 0x82, 0xc4);
    case Category::Narrative: return QColor(0x8e, 0x5a, 0xc8);
    case Category::Challenge: return QColor(0xd9, 0x8c, 0x1f);
    case Category::Generation: return QColor(0x2e, 0xa0, 0x6b);
    case Category::Suggestion: return QColor(0x17, 0x9c, 0xb0);
    }
    return Qt::gray;
}

int EventLogModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int EventLogModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

const StoredEvent *EventLogModel::eventAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

int EventLogModel::rowOfId(qint64 id) const
{
    const auto it = std::lower_bound(m_rows.cbegin(), m_rows.cend(), id, [](const StoredEvent &e, qint64 v) { return e.id < v; });
    return it != m_rows.cend() && it->id == id ? int(it - m_rows.cbegin()) : -1;
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    const StoredEvent *e = index.isValid() ? eventAt(index.row()) : nullptr;
    if (!e)
        return {};
    const int col = index.column();
    if (role == EventIdRole)
        return e->id;
    if (role == CategoryRole)
        return e->event ? QVariant(int(e->event->category())) : QVariant();
    if (role == RawValueRole) {
        switch (col) {
        case IdColumn: return e->id;
        case TimeColumn: return e->createdAt;
        case TypeColumn: return e->eventType;
        case WorldColumn: return e->event ? e->event->worldId() : QString();
        case SummaryColumn: return e->event ? e->event->summary() : e->decodeError;
        case ProcessedColumn: return e->processed;
        }
    }
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (col) {
        case IdColumn: return e->id;
        case TimeColumn:
            if (!e->createdAt.isValid())
                return e->createdAtText;
            if (role == Qt::ToolTipRole)
                return e->createdAtText;
            {
                // Today's events by the time alone; older ones with their day.
                const QDateTime local = e->createdAt.toLocalTime();
                return local.date() == QDate::currentDate() ? local.toString(u"HH:mm:ss"_s)
                                                            : local.toString(u"yyyy-MM-dd HH:mm"_s);
            }
        case TypeColumn: return e->eventType;
        case WorldColumn:
            if (!e->event)
                return u"?"_s;
            if (e->event->worldId().isEmpty())
                return u"—"_s;
            if (role == Qt::ToolTipRole && m_names.contains(e->event->worldId()))
                return u"%1 (%2)"_s.arg(displayName(e->event->worldId()), e->event->worldId());
            return displayName(e->event->worldId());
        case SummaryColumn: {
            QString summary = e->event ? displaySummary(*e->event) : u"Undecodable: %1"_s.arg(e->decodeError);
            // The text filter matched where the summary does not show it: show where.
            const QString &needle = m_query.text;
            if (!needle.isEmpty() && role == Qt::DisplayRole && !summary.contains(needle, Qt::CaseInsensitive)) {
                const QString payload = QString::fromUtf8(e->payload);
                if (const qsizetype at = payload.indexOf(needle, 0, Qt::CaseInsensitive); at >= 0) {
                    const qsizetype from = std::max<qsizetype>(0, at - 24);
                    summary += u"  — “%1%2%3”"_s.arg(from > 0 ? u"…"_s : QString(),
                                                      payload.mid(from, at - from + needle.size() + 32),
                                                      at + needle.size() + 32 < payload.size() ? u"…"_s : QString());
                }
            }
            return summary;
        }
        case ProcessedColumn: return e->processed ? u"✓"_s : QString();
        }
    }
    if (role == Qt::DecorationRole && col == TypeColumn)
        return e->event ? categoryIcon(e->event->category()) : QIcon::fromTheme(u"dialog-warning"_s);
    if (role == Qt::ForegroundRole) {
        if (!e->event)
            return QColor(0xc0, 0x39, 0x2b);
        if (col == SummaryColumn && e->event->kind() == EventKind::GenerationBatchFailed)
            return QColor(0xc0, 0x39, 0x2b);
        if (col == SummaryColumn && e->event->kind() == EventKind::SuggestionFailed)
            return QColor(0xc0, 0x39, 0x2b);
    }
    if (role == Qt::TextAlignmentRole && (col == IdColumn || col == ProcessedColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::FontRole && col == IdColumn) {
        QFont f;
        f.setFamily(u"monospace"_s);
        return f;
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == ProcessedColumn)
        return tr("Processed: a consumer has handled the event");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case IdColumn: return tr("ID");
    case TimeColumn: return tr("Time");
    case TypeColumn: return tr("Type");
    case WorldColumn: return tr("World");
    case SummaryColumn: return tr("What happened");
    case ProcessedColumn: return u"✓"_s;
    }
    return {};
}

void EventLogModel::setQuery(const EventQuery &query)
{
    m_query = query;
    reload();
}

void EventLogModel::reload(qint64 aroundId)
{
    const quint64 generation = ++m_generation;
    EventQuery page = m_query;
    page.newestFirst = true;
    page.limit = m_pageSize;
    if (aroundId > 0)
        page.beforeId = aroundId + m_pageSize / 2;
    m_store.fetchPage(page).then(this, [this, generation, aroundId](const Result<QList<StoredEvent>> &r) {
        if (generation != m_generation)
            return;  // a newer filter was set meanwhile
        m_loadedGeneration = generation;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
        beginResetModel();
        m_rows = r.value();
        learnJobs(m_rows);
        std::reverse(m_rows.begin(), m_rows.end());
        m_hasOlder = m_rows.size() >= m_pageSize;
        m_hasNewer = aroundId > 0;  // a window around an id: there may be more after it
        // Live rows that arrived while the page was read: keep the ones it
        // missed (flushLive drops what the page already has).
        m_pendingLive.removeIf([this](const StoredEvent &e) { return !m_query.matches(e); });
        endResetModel();
        Q_EMIT loaded();
        if (!m_pendingLive.isEmpty())
            m_coalesce.start();
        if (aroundId > 0)
            Q_EMIT jumped(rowOfId(aroundId));
    });
    recount();
}

void EventLogModel::recount()
{
    m_matching = -1;
    const quint64 generation = m_generation;
    EventQuery q = m_query;
    m_store.count(q).then(this, [this, generation](const Result<qint64> &r) {
        if (generation != m_generation || !r)
            return;
        m_matching = r.value();
        Q_EMIT matchingCountChanged(m_matching);
    });
}

void EventLogModel::fetchOlder()
{
    if (!canFetchOlder() || m_rows.isEmpty())
        return;
    m_loadingOlder = true;
    const quint64 generation = m_generation;
    EventQuery page = m_query;
    page.newestFirst = true;
    page.limit = m_pageSize;
    page.beforeId = m_rows.first().id;
    m_store.fetchPage(page).then(this, [this, generation](const Result<QList<StoredEvent>> &r) {
        m_loadingOlder = false;
        if (generation != m_generation)
            return;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
        QList<StoredEvent> older = r.value();
        m_hasOlder = older.size() >= m_pageSize;
        if (older.isEmpty())
            return;
        std::reverse(older.begin(), older.end());
        beginInsertRows({}, 0, int(older.size()) - 1);
        learnJobs(older);
        m_rows = older + m_rows;
        endInsertRows();
        // Bounded: drop from the newest end when over the limit while reading history.
        if (m_rows.size() > m_maxRows) {
            const int drop = int(m_rows.size()) - m_maxRows;
            beginRemoveRows({}, m_maxRows, int(m_rows.size()) - 1);
            m_rows.remove(m_maxRows, drop);
            endRemoveRows();
            m_hasNewer = true;
        }
        Q_EMIT olderLoaded(int(older.size()));
    });
}

void EventLogModel::jumpTo(qint64 id)
{
    const int row = rowOfId(id);
    if (row >= 0) {
        Q_EMIT jumped(row);
        return;
    }
    reload(id);
}

void EventLogModel::onLive(const QList<StoredEvent> &events)
{
    for (const StoredEvent &e : events) {
        if (m_query.matches(e))
            m_pendingLive.append(e);
    }
    if (!m_pendingLive.isEmpty() && !m_coalesce.isActive())
        m_coalesce.start();
}

void EventLogModel::fetchNewer()
{
    if (!canFetchNewer())
        return;
    m_loadingNewer = true;
    const quint64 generation = m_generation;
    EventQuery page = m_query;
    page.newestFirst = false;
    page.limit = m_pageSize;
    page.afterId = m_rows.isEmpty() ? 0 : m_rows.last().id;
    m_store.fetchPage(page).then(this, [this, generation](const Result<QList<StoredEvent>> &r) {
        m_loadingNewer = false;
        if (generation != m_generation)
            return;
        if (!r) {
            Q_EMIT errorOccurred(r.error().message);
            return;
        }
        const QList<StoredEvent> &newer = r.value();
        m_hasNewer = newer.size() >= m_pageSize;
        if (!newer.isEmpty()) {
            beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + newer.size()) - 1);
            learnJobs(newer);
            m_rows += newer;
            endInsertRows();
            if (m_rows.size() > m_maxRows) {
                const int drop = int(m_rows.size()) - m_maxRows;
                beginRemoveRows({}, 0, drop - 1);
                m_rows.remove(0, drop);
                endRemoveRows();
                m_hasOlder = true;
            }
        }
        if (!m_hasNewer && !m_pendingLive.isEmpty())
            m_coalesce.start();  // caught up with the head: live rows join again
    });
}

void EventLogModel::showNewest()
{
    if (m_hasNewer)
        reload();
}

void EventLogModel::flushLive()
{
    if (m_pendingLive.isEmpty() || isLoading())
        return;
    if (m_hasNewer) {
        // Not adjacent to what is shown: they are read in order when the view
        // gets there. Only the count moves.
        if (m_matching >= 0) {
            m_matching += m_pendingLive.size();
            Q_EMIT matchingCountChanged(m_matching);
        }
        m_pendingLive.clear();
        return;
    }
    // Only rows newer than what a (re)load brought in.
    const qint64 last = m_rows.isEmpty() ? 0 : m_rows.last().id;
    QList<StoredEvent> fresh;
    for (StoredEvent &e : m_pendingLive)
        if (e.id > last)
            fresh.append(std::move(e));
    m_pendingLive.clear();
    if (fresh.isEmpty())
        return;
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + fresh.size()) - 1);
    learnJobs(fresh);
    m_rows += fresh;
    endInsertRows();
    if (m_matching >= 0) {
        m_matching += fresh.size();
        Q_EMIT matchingCountChanged(m_matching);
    }
    if (m_rows.size() > m_maxRows) {
        const int drop = int(m_rows.size()) - m_maxRows;
        beginRemoveRows({}, 0, drop - 1);
        m_rows.remove(0, drop);
        endRemoveRows();
        m_hasOlder = true;
    }
    Q_EMIT rowsAppendedLive(int(fresh.size()));
}

void EventLogModel::setProcessed(qint64 id, bool processed)
{
    const int row = rowOfId(id);
    if (row < 0)
        return;
    m_rows[row].processed = processed;
    m_rows[row].processedAt = processed ? QDateTime::currentDateTimeUtc() : QDateTime();
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

} // namespace eventdesk
