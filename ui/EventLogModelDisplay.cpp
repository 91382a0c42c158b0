// What the log model shows: cells, colours, icons, and summaries in the
// game's words (display names for ids, jobs by what they are for).
#include "EventLogModel.h"
#include "PlainText.h"

#include "EngineMessages.h"
#include "EventCodec.h"

#include <QColor>
#include <QFont>
#include <QIcon>
#include <QPainter>
#include <QPixmap>

using namespace Qt::StringLiterals;

namespace eventdesk {

// A dot in the category's colour, made once per category.
QIcon EventLogModel::categoryIcon(Category c)
{
    static QHash<int, QIcon> cache;
    if (!cache.contains(int(c))) {
        QPixmap pm(12, 12);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        p.setBrush(categoryColor(c));
        p.setPen(Qt::NoPen);
        p.drawEllipse(1, 1, 10, 10);
        cache.insert(int(c), QIcon(pm));
    }
    return cache.value(int(c));
}

QColor EventLogModel::engineColor(const StoredEvent &row)
{
    if (const auto kind = engine::appEventKind(row.engineTag))
        return categoryColor(catalog::category(*kind));
    if (row.engineTag == engine::GapTag)
        return QColor(0xd3, 0x54, 0x00);
    return QColor(0x7f, 0x8c, 0x8d);
}

QIcon EventLogModel::engineIcon(const StoredEvent &row)
{
    static QHash<QRgb, QIcon> cache;
    const QColor color = engineColor(row);
    if (!cache.contains(color.rgb())) {
        QPixmap pm(12, 12);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(color, 2.5));
        p.drawEllipse(QRectF(2, 2, 8, 8));
        cache.insert(color.rgb(), QIcon(pm));
    }
    return cache.value(color.rgb());
}

QString EventLogModel::rowSummary(const StoredEvent &row) const
{
    if (row.event)
        return displaySummary(*row.event);
    return engine::rowSummary(row, &m_names);
}

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

void EventLogModel::learnJobLabels(const QHash<QString, QString> &labels)
{
    bool learned = false;
    for (auto it = labels.cbegin(); it != labels.cend(); ++it) {
        if (it.value().isEmpty() || m_jobs.contains(it.key()))
            continue;
        // "portrait for character <id>": the entity by its id, shown by name.
        const qsizetype cut = it.value().lastIndexOf(u' ');
        const QString entity = cut > 0 ? it.value().mid(cut + 1) : QString();
        if (cut > 0 && it.value().left(cut).contains(u" for "_s))
            m_jobs.insert(it.key(), {it.value().left(cut + 1), entity});
        else
            m_jobs.insert(it.key(), {it.value(), QString()});
        learned = true;
    }
    if (learned && !m_rows.isEmpty())
        Q_EMIT dataChanged(index(int(m_first), SummaryColumn), index(int(m_first + m_rows.size() - 1), SummaryColumn));
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

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    const StoredEvent *e = index.isValid() ? eventAt(index.row()) : nullptr;
    if (!e) {
        if (!index.isValid() || index.row() >= rowCount())
            return {};
        // A row outside the window: its window is read, and the row says so meanwhile.
        if (role == Qt::DisplayRole || role == Qt::ForegroundRole)
            ensureLoaded(index.row());
        if (role == Qt::DisplayRole && index.column() == SummaryColumn)
            return tr("Loading…");
        if (role == Qt::ForegroundRole)
            return QColor(Qt::gray);
        return {};
    }
    const int col = index.column();
    if (role == EventIdRole)
        return e->id;
    if (role == CategoryRole) {
        if (e->event)
            return int(e->event->category());
        if (const auto kind = engine::appEventKind(e->engineTag))
            return int(catalog::category(*kind));
        return {};
    }
    if (role == RawValueRole) {
        switch (col) {
        case IdColumn: return e->id;
        case TimeColumn: return e->createdAt;
        case TypeColumn: return e->eventType;
        case WorldColumn: return e->worldId();
        case SummaryColumn: return e->event ? e->event->summary() : engine::rowSummary(*e);
        case ProcessedColumn: return e->processed;
        }
    }
    if (role == Qt::ToolTipRole) {
        // Every cell's text can come from outside (a player's name, the engine's
        // type or time): shown literally, never as markup.
        const QVariant tip = cellText(*e, col, role);
        return tip.isValid() ? QVariant(plain::toolTip(tip.toString())) : tip;
    }
    if (role == Qt::DisplayRole)
        return cellText(*e, col, role);
    if (role == Qt::DecorationRole && col == TypeColumn)
        return e->event ? categoryIcon(e->event->category())
             : e->isEngineMessage() ? engineIcon(*e)
                                    : QIcon::fromTheme(u"dialog-warning"_s);
    if (role == Qt::ForegroundRole) {
        if (e->engineTag == engine::GapTag)
            return QColor(0xd3, 0x54, 0x00);
        if (!e->event && !e->isEngineMessage())
            return QColor(0xc0, 0x39, 0x2b);
        if (!e->event)
            return {};
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

// What a cell says (Qt::DisplayRole) or says in full (Qt::ToolTipRole, before escaping).
QVariant EventLogModel::cellText(const StoredEvent &row, int col, int role) const
{
    const StoredEvent *e = &row;
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
        if (!e->event && !e->isEngineMessage())
            return u"?"_s;
        if (e->worldId().isEmpty())
            return u"—"_s;
        if (role == Qt::ToolTipRole && m_names.contains(e->worldId()))
            return u"%1 (%2)"_s.arg(displayName(e->worldId()), e->worldId());
        return displayName(e->worldId());
    case SummaryColumn: {
        QString summary = e->event || e->isEngineMessage() ? rowSummary(*e) : u"Undecodable: %1"_s.arg(e->decodeError);
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

} // namespace eventdesk
