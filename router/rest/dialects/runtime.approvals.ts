/**
 * Approvals (002): requests that hold a task back until an admin approves or denies them.
 */
import {
  ApprovalApproveDocument,
  ApprovalDenyDocument,
  ApprovalListDocument,
  type ApprovalFieldsFragment,
} from '../generated/graphql';
import { fromBody, fromPath } from '../mapping';
import { route } from '../types';

/** Ironclad's ApprovalStatus as serde writes it (ironclad-agent/src/approvals.rs). */
const APPROVAL_STATUS: Record<string, string> = {
  PENDING: 'Pending',
  APPROVED: 'Approved',
  DENIED: 'Denied',
};

/**
 * An approval request: Ironclad's fields (ironclad-agent/src/approvals.rs ApprovalRequest) where
 * ours has them. Ours hold a task back, not a tool call, so `tool_name` is the task's gate and the
 * task is named; Ironclad's timeout is not kept here (null).
 */
const approval = (a: ApprovalFieldsFragment) => ({
  id: a.id,
  tool_name: 'task_approval',
  tool_input: JSON.stringify({ task_id: a.taskId }),
  session_id: null,
  task_id: a.taskId,
  requested_by: a.requestedBy,
  status: APPROVAL_STATUS[a.state],
  timeout_at: null,
  decided_by: a.decidedBy,
  decided_at: a.decidedAt,
  reason: a.reason,
  created_at: a.createdAt,
});

export const runtimeApprovalRoutes = [
  route({
    method: 'GET',
    path: '/api/approvals',
    summary: 'Pending approval requests: tasks nobody may claim until approved',
    operation: ApprovalListDocument,
    paged: { connection: (d) => d.approvals },
    // Ironclad's `pending`; `total` here counts the pending ones (Ironclad's counts every request).
    shape: ({ approvals }) => {
      const pending = approvals.nodes.map(approval);
      return { pending, approvals: pending, total: approvals.totalCount };
    },
  }),
  route({
    method: 'POST',
    path: '/api/approvals/:id/approve',
    summary: 'Approve a pending request: its task may be claimed',
    operation: ApprovalApproveDocument,
    variables: { id: fromPath('id') },
    // Ironclad's `{approval, replay_queued}`, and the request at the top as before. Nothing is
    // replayed here: approving lets the task be claimed.
    shape: (d) => ({
      ...approval(d.approveRequest),
      approval: approval(d.approveRequest),
      replay_queued: false,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/approvals/:id/deny',
    summary: 'Deny a pending request: its task is cancelled',
    operation: ApprovalDenyDocument,
    variables: { id: fromPath('id'), reason: fromBody('reason', undefined, 'why it is denied') },
    shape: (d) => approval(d.denyRequest),
  }),
];
