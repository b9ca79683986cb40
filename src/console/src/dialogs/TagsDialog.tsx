/** The tags of a key pair or instance in a dialog, opened from a list row; the list is read again on close. */
import { useState } from 'react';
import type { Tag, TaggableType } from '../api/tags';
import { Dialog } from '../ui/Dialog';
import { TagsEditor } from '../ui/TagsEditor';

export function TagsDialog({
  regionId,
  resourceType,
  resourceId,
  label,
  tags: initial,
  onClose,
  onChanged,
}: {
  regionId: string;
  resourceType: TaggableType;
  resourceId: string;
  /** What the title names: the key pair's or instance's name. */
  label: string;
  tags: readonly Tag[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const [tags, setTags] = useState<Tag[]>([...initial]);
  return (
    <Dialog
      title={`Tags of ${label}`}
      onClose={onClose}
      size="small"
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      }
    >
      <TagsEditor
        regionId={regionId}
        resourceType={resourceType}
        resourceId={resourceId}
        tags={tags}
        onChanged={(t) => {
          setTags(t);
          onChanged();
        }}
      />
    </Dialog>
  );
}
