using Appliance.Hosting;

namespace Appliance.Edge;

/// <summary>A write that failed because the state partition is full answers 507 with what is left and what to delete.</summary>
internal static class FullDisk
{
    public const int Status = 507;

    public static Refusal? Of(Exception e, StatePartition partition) =>
        StatePartition.IsFull(e) ? new Refusal(Status, partition.FullDetail()) : null;
}
