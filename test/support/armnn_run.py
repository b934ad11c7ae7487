"""Runs .tflite step graphs in Arm NN's CpuRef backend (Debian python3-pyarmnn) and prints the outputs as JSON.

Usage: /usr/bin/python3 test/support/armnn_run.py DIR
DIR/jobs.json: {"jobs": [{"model": "file.tflite", "steps": [{"<input name>": [int8, ...], ...}, ...],
                          "carry": {"<state input>": "<output>", ...}}]}
Each step lists every subgraph input by name. With "carry", only the first step's values of the carried
inputs are used; later steps feed the named outputs of the previous step back (a free-running stream).
Prints {"armnn": version, "backend": "CpuRef", "jobs": [{"inputs": [...], "outputs": [...],
"steps": [{"<output name>": [int8 or int16, ...]}, ...]}]}. Any failure exits non-zero with one line on stderr.
"""
import json
import os
import sys


def fail(message):
    sys.stderr.write(message.rstrip() + "\n")
    sys.exit(2)


def main():
    if len(sys.argv) != 2:
        fail("usage: armnn_run.py DIR (DIR/jobs.json names the models and inputs)")
    work = sys.argv[1]
    try:
        import numpy as np
        import pyarmnn as ann
    except ImportError as e:
        fail("pyarmnn is not importable (%s): apt-get install -y python3-pyarmnn libarmnn-cpuref-backend22 libarmnntfliteparser22" % e)

    with open(os.path.join(work, "jobs.json")) as f:
        spec = json.load(f)

    runtime = ann.IRuntime(ann.CreationOptions())
    backends = [ann.BackendId("CpuRef")]
    results = []
    for job in spec["jobs"]:
        parser = ann.ITfLiteParser()
        network = parser.CreateNetworkFromBinaryFile(os.path.join(work, job["model"]))
        inputs = list(parser.GetSubgraphInputTensorNames(0))
        outputs = list(parser.GetSubgraphOutputTensorNames(0))
        in_info = [parser.GetNetworkInputBindingInfo(0, n) for n in inputs]
        out_info = [parser.GetNetworkOutputBindingInfo(0, n) for n in outputs]
        optimized, messages = ann.Optimize(network, backends, runtime.GetDeviceSpec(), ann.OptimizerOptions())
        if messages:
            fail("Arm NN could not optimize %s for CpuRef: %s" % (job["model"], "; ".join(messages)))
        net_id, message = runtime.LoadNetwork(optimized)
        if message:
            fail("Arm NN could not load %s: %s" % (job["model"], message))

        carry = job.get("carry") or {}
        carried = {}
        steps = []
        for step in job["steps"]:
            data = []
            for name, (_, info) in zip(inputs, in_info):
                values = carried[name] if name in carried else step.get(name)
                if values is None:
                    fail("%s: a step has no values for input %s" % (job["model"], name))
                # int16 inputs (a 16-bit output layer's QSymmS16 tensors) keep their width.
                dtype = np.int16 if info.GetDataType() == ann.DataType_QSymmS16 else np.int8
                array = np.asarray(values, dtype=dtype)
                if array.size != info.GetNumElements():
                    fail("%s: input %s needs %d values, got %d" % (job["model"], name, info.GetNumElements(), array.size))
                data.append(array.reshape(tuple(info.GetShape()[i] for i in range(info.GetNumDimensions()))))
            input_tensors = ann.make_input_tensors(in_info, data)
            output_tensors = ann.make_output_tensors(out_info)
            runtime.EnqueueWorkload(net_id, input_tensors, output_tensors)
            arrays = ann.workload_tensors_to_ndarray(output_tensors)
            values = {name: a.reshape(-1).tolist() for name, a in zip(outputs, arrays)}
            steps.append(values)
            carried = {state: values[out] for state, out in carry.items()}
        runtime.UnloadNetwork(net_id)
        results.append({"inputs": inputs, "outputs": outputs, "steps": steps})

    json.dump({"armnn": ann.GetVersion(), "backend": "CpuRef", "jobs": results}, sys.stdout)


if __name__ == "__main__":
    main()
