// The log's type filter: any set of event types, picked in a popup tree by
// category (a category's box checks all its types) or one by one.
#pragma once

#include "AppEvent.h"

#include <QTimer>
#include <QToolButton>

class QTreeWidget;
class QTreeWidgetItem;

namespace eventdesk {

class TypeFilter final : public QToolButton
{
    Q_OBJECT
public:
    explicit TypeFilter(QWidget *parent = nullptr);

    // The types picked; empty when every type is (or none is).
    QList<EventKind> kinds() const;
    void setKinds(const QList<EventKind> &kinds);  // empty: every type
    // Today's engine's messages picked, by tag (eventdesk record); empty with
    // kinds() when every type is.
    QStringList tags() const;
    void setTypes(const QList<EventKind> &kinds, const QStringList &tags);  // both empty: every type
    // In words: "All types", "Challenge", "StoryEventCreated", "3 types".
    QString describe() const;
    QTreeWidget *tree() const { return m_tree; }

Q_SIGNALS:
    void changed();  // once per change, however many boxes it toggled

private:
    void setAll(bool checked);
    bool everything() const;
    QVariantList ticked(int role) const;
    void updateText();

    QTreeWidget *m_tree;
    QTimer m_changed;
};

} // namespace eventdesk
