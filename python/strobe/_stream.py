"""WindowStream: the iterable form — windows sharded over ranks and DataLoader workers, the
next K read ahead on the engine thread while Python works on the current one."""

import collections

from ._dataset import EventWindows, torch_rank, torch_worker


class WindowStream:
    """Iterable of window dicts (see the stub for details)."""

    def __init__(self, sources, length="1s", *, prefetch=4, rank=None, world_size=None, **options):
        if int(prefetch) < 0:
            raise ValueError(f"prefetch {prefetch!r} is negative — give 0 or more windows")
        if (rank is None) != (world_size is None):
            raise ValueError("give rank and world_size together (or neither)")
        if world_size is not None and not 0 <= int(rank) < int(world_size):
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        self.prefetch = int(prefetch)
        self.rank = None if rank is None else int(rank)
        self.world_size = None if world_size is None else int(world_size)
        self.dataset = EventWindows(sources, length, **options)

    def set_epoch(self, epoch):
        self.dataset.set_epoch(epoch)

    def __len__(self):
        return len(self.dataset)

    def shard(self, worker_id=0, num_workers=1, rank=None, world_size=None):
        """Window indices of one worker of one rank: every ``rank·workers + worker``-th."""
        rank = self.rank if rank is None else rank
        world_size = self.world_size if world_size is None else world_size
        if rank is None:
            rank, world_size = torch_rank()
        step = world_size * num_workers
        return range(rank * num_workers + worker_id, len(self.dataset), step)

    def iter_shard(self, worker_id=0, num_workers=1, rank=None, world_size=None):
        """Iterates one shard, keeping ``prefetch`` windows in flight."""
        ds = self.dataset
        queue = collections.deque()
        indices = iter(self.shard(worker_id, num_workers, rank, world_size))
        for index in indices:
            queue.append(ds.submit(index))
            if len(queue) > self.prefetch:
                break
        while queue:
            ready = queue.popleft()
            nxt = next(indices, None)
            if nxt is not None:
                queue.append(ds.submit(nxt))
            yield ds.finish(*ready)

    def __iter__(self):
        worker_id, num_workers = torch_worker()
        return self.iter_shard(worker_id, num_workers)

    def __repr__(self):
        return f"<strobe.WindowStream prefetch={self.prefetch} over {self.dataset!r}>"
