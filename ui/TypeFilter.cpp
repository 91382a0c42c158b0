#include "TypeFilter.h"

#include "EngineMessages.h"
#include "EventCatalog.h"
#include "EventLogModel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QMenu>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QWidgetAction>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr int KindRole = Qt::UserRole;
constexpr int TagRole = Qt::UserRole + 1;  // a recorded message of today's engine, by tag

QString titled(Category c)
{
    QString name = catalog::categoryName(c);
    name[0] = name[0].toUpper();
    return name;
}

} // namespace

TypeFilter::TypeFilter(QWidget *parent)
    : QToolButton(parent)
    , m_tree(new QTreeWidget)
{
    setPopupMode(QToolButton::InstantPopup);
    setToolButtonStyle(Qt::ToolButtonTextOnly);
    setToolTip(tr("Show only some event types: a category, or types one by one"));
    setAccessibleName(tr("Event types"));

    m_tree->setHeaderHidden(true);
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setAccessibleName(tr("Event types to show"));
    for (int c = 0; c < CategoryCount; ++c) {
        const auto cat = Category(c);
        auto *top = new QTreeWidgetItem(m_tree, {titled(cat)});
        top->setIcon(0, EventLogModel::categoryIcon(cat));
        top->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsAutoTristate);
        top->setCheckState(0, Qt::Checked);
        for (EventKind k : catalog::kindsInCategory(cat)) {
            auto *item = new QTreeWidgetItem(top, {catalog::name(k)});
            item->setData(0, KindRole, int(k));
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
            item->setCheckState(0, Qt::Checked);
        }
    }
    // Today's engine's own messages (eventdesk record), by area; those that
    // mean an AppEvent go with that type above. Folded: the DM opens an area.
    for (int a = 0; a < engine::AreaCount; ++a) {
        QStringList tags = engine::tagsIn(engine::Area(a));
        tags.removeIf([](const QString &t) {
            return engine::appEventKind(t) || t == u"Pong"_s || t == u"Response"_s || t == u"WorldJoined"_s
                || t == u"WorldJoinFailed"_s;  // never kept
        });
        if (tags.isEmpty())
            continue;
        QString name = engine::areaName(engine::Area(a));
        name[0] = name[0].toUpper();
        auto *top = new QTreeWidgetItem(m_tree, {tr("Engine: %1").arg(name)});
        top->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsAutoTristate);
        top->setCheckState(0, Qt::Checked);
        for (const QString &t : tags) {
            auto *item = new QTreeWidgetItem(top, {t});
            item->setData(0, TagRole, t);
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
            item->setCheckState(0, Qt::Checked);
        }
    }
    for (int c = 0; c < CategoryCount; ++c)
        m_tree->topLevelItem(c)->setExpanded(true);
    // Every type in view without scrolling: the longest name, and a row each.
    int widest = 0;
    for (const VariantSpec &v : catalog::variants())
        widest = std::max(widest, m_tree->fontMetrics().horizontalAdvance(v.name));
    const int rowHeight = std::max(m_tree->fontMetrics().height() + 3, 16);
    const int rows = m_tree->topLevelItemCount() + EventKindCount;
    m_tree->setMinimumSize(widest + 3 * m_tree->indentation() + 48, std::min(rows * rowHeight + 8, 560));

    auto *panel = new QWidget;
    auto *layout = new QVBoxLayout(panel);
    layout->setContentsMargins(6, 6, 6, 6);
    auto *buttons = new QHBoxLayout;
    auto *all = new QPushButton(tr("All"), panel);
    auto *none = new QPushButton(tr("None"), panel);
    all->setToolTip(tr("Every type"));
    none->setToolTip(tr("Clear every box, to pick a few"));
    buttons->addWidget(all);
    buttons->addWidget(none);
    buttons->addStretch();
    layout->addLayout(buttons);
    layout->addWidget(m_tree);
    auto *menu = new QMenu(this);
    auto *action = new QWidgetAction(menu);
    action->setDefaultWidget(panel);
    menu->addAction(action);
    setMenu(menu);
    connect(all, &QPushButton::clicked, this, [this] { setAll(true); });
    connect(none, &QPushButton::clicked, this, [this] { setAll(false); });
    connect(menu, &QMenu::aboutToShow, m_tree, qOverload<>(&QWidget::setFocus));

    // A category's box toggles each of its types: one change, told once.
    m_changed.setSingleShot(true);
    m_changed.setInterval(0);
    connect(&m_changed, &QTimer::timeout, this, [this] {
        updateText();
        Q_EMIT changed();
    });
    connect(m_tree, &QTreeWidget::itemChanged, &m_changed, qOverload<>(&QTimer::start));
    updateText();
}

bool TypeFilter::everything() const
{
    for (int c = 0; c < m_tree->topLevelItemCount(); ++c)
        if (m_tree->topLevelItem(c)->checkState(0) != Qt::Checked)
            return false;
    return true;
}

// The data (under role) of every ticked type that has it; nothing when every type is ticked.
QVariantList TypeFilter::ticked(int role) const
{
    QVariantList out;
    if (everything())
        return out;
    for (int c = 0; c < m_tree->topLevelItemCount(); ++c) {
        const QTreeWidgetItem *top = m_tree->topLevelItem(c);
        for (int i = 0; i < top->childCount(); ++i)
            if (top->child(i)->checkState(0) == Qt::Checked && top->child(i)->data(0, role).isValid())
                out.append(top->child(i)->data(0, role));
    }
    return out;
}

QList<EventKind> TypeFilter::kinds() const
{
    QList<EventKind> out;
    for (const QVariant &k : ticked(KindRole))
        out.append(EventKind(k.toInt()));
    return out;
}

QStringList TypeFilter::tags() const
{
    QStringList out;
    for (const QVariant &t : ticked(TagRole))
        out.append(t.toString());
    return out;
}

void TypeFilter::setTypes(const QList<EventKind> &kinds, const QStringList &tags)
{
    {
        const QSignalBlocker block(m_tree);
        const bool all = kinds.isEmpty() && tags.isEmpty();
        for (int c = 0; c < m_tree->topLevelItemCount(); ++c) {
            QTreeWidgetItem *top = m_tree->topLevelItem(c);
            int checked = 0;
            for (int i = 0; i < top->childCount(); ++i) {
                QTreeWidgetItem *item = top->child(i);
                const bool on = all
                    || (item->data(0, KindRole).isValid() && kinds.contains(EventKind(item->data(0, KindRole).toInt())))
                    || (item->data(0, TagRole).isValid() && tags.contains(item->data(0, TagRole).toString()));
                item->setCheckState(0, on ? Qt::Checked : Qt::Unchecked);
                checked += on;
            }
            top->setCheckState(0, checked == 0 ? Qt::Unchecked : checked == top->childCount() ? Qt::Checked : Qt::PartiallyChecked);
        }
    }
    m_tree->viewport()->update();
    updateText();
}

void TypeFilter::setKinds(const QList<EventKind> &kinds)
{
    setTypes(kinds, {});
}

void TypeFilter::setAll(bool checked)
{
    for (int c = 0; c < m_tree->topLevelItemCount(); ++c)
        m_tree->topLevelItem(c)->setCheckState(0, checked ? Qt::Checked : Qt::Unchecked);
}

QString TypeFilter::describe() const
{
    const QList<EventKind> picked = kinds();
    const QStringList pickedTags = tags();
    if (picked.isEmpty() && pickedTags.isEmpty())
        return tr("All types");
    if (picked.isEmpty())
        return pickedTags.size() == 1 ? pickedTags.first() : tr("%n engine types", nullptr, int(pickedTags.size()));
    if (!pickedTags.isEmpty())
        return tr("%n types", nullptr, int(picked.size() + pickedTags.size()));
    for (int c = 0; c < CategoryCount; ++c) {
        QList<EventKind> inCategory = catalog::kindsInCategory(Category(c));
        if (std::is_permutation(inCategory.cbegin(), inCategory.cend(), picked.cbegin(), picked.cend()))
            return titled(Category(c));
    }
    if (picked.size() == 1)
        return catalog::name(picked.first());
    return tr("%n types", nullptr, int(picked.size()));
}

void TypeFilter::updateText()
{
    setText(describe());
}

} // namespace eventdesk
