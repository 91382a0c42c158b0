// Paints a cell's text with every match of the text filter highlighted, so the
// DM sees why a row matched.
#pragma once

#include <QStyledItemDelegate>

namespace eventdesk {

class MatchDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MatchDelegate)
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void setNeedle(const QString &needle) { m_needle = needle; }
    QString needle() const { return m_needle; }
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;

private:
    QString m_needle;
};

} // namespace eventdesk
