"use client";
// Asks before something replaces the admin's work (loading a version over the edited policy,
// rolling back over unapplied edits).

import type { ReactNode } from "react";
import { Button, Group, Modal, Text } from "@mantine/core";

export function ConfirmModal({
  title,
  confirm,
  children,
  onConfirm,
  onCancel,
}: {
  title: string;
  confirm: string;
  children: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal opened onClose={onCancel} title={title} size="lg">
      <Text size="sm" component="div">
        {children}
      </Text>
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button color="orange" onClick={onConfirm} data-testid="confirm-modal-ok">
          {confirm}
        </Button>
      </Group>
    </Modal>
  );
}
