#!/usr/bin/python3
"""A minimal CRI client: drives a runtime's RuntimeService as the kubelet does.

Usage: cri_client.py SOCKET STUBDIR COMMAND [ARG]
  version                      print the runtime's name and API version
  run POD_JSON                 RunPodSandbox; prints the sandbox id
  status ID                    PodSandboxStatus (verbose); prints JSON {state, ip, info}
  stop ID / remove ID          StopPodSandbox / RemovePodSandbox
  list                         ListPodSandbox; prints one id per line

POD_JSON: {"name", "uid", "namespace", "hostname", "portMappings": [{"protocol",
"containerPort", "hostPort", "hostIp"}], "dns": {"servers", "searches", "options"},
"annotations": {...}, "labels": {...}, "logDirectory", "cgroupParent"}.
The stubs are generated from api.proto into STUBDIR by the caller (grpc_tools.protoc).
Errors: the gRPC status on stderr, exit code 1.
"""
import json
import sys

import grpc


def sandbox_config(api, pod):
    cfg = api.PodSandboxConfig(
        metadata=api.PodSandboxMetadata(name=pod["name"], uid=pod["uid"],
                                        namespace=pod.get("namespace", "default"), attempt=0),
        hostname=pod.get("hostname", pod["name"]),
        log_directory=pod.get("logDirectory", ""),
    )
    dns = pod.get("dns")
    if dns:
        cfg.dns_config.servers.extend(dns.get("servers", []))
        cfg.dns_config.searches.extend(dns.get("searches", []))
        cfg.dns_config.options.extend(dns.get("options", []))
    protocols = {"TCP": api.TCP, "UDP": api.UDP, "SCTP": api.SCTP}
    for pm in pod.get("portMappings", []):
        cfg.port_mappings.append(api.PortMapping(
            protocol=protocols[pm.get("protocol", "TCP").upper()],
            container_port=pm["containerPort"], host_port=pm["hostPort"],
            host_ip=pm.get("hostIp", "")))
    cfg.labels.update(pod.get("labels", {}))
    cfg.annotations.update(pod.get("annotations", {}))
    cfg.linux.cgroup_parent = pod.get("cgroupParent", "")
    # The kubelet's defaults for an ordinary pod: pod network namespace, container PID namespace.
    cfg.linux.security_context.namespace_options.network = api.POD
    cfg.linux.security_context.namespace_options.pid = api.CONTAINER
    cfg.linux.security_context.namespace_options.ipc = api.POD
    return cfg


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    socket, stubdir, cmd, args = argv[1], argv[2], argv[3], argv[4:]
    sys.path.insert(0, stubdir)
    import api_pb2 as api  # noqa: E402 (generated at test time)
    import api_pb2_grpc as api_grpc  # noqa: E402

    channel = grpc.insecure_channel("unix://" + socket)
    rt = api_grpc.RuntimeServiceStub(channel)
    timeout = 120
    try:
        if cmd == "version":
            v = rt.Version(api.VersionRequest(version="v1"), timeout=timeout)
            print(v.runtime_name, v.runtime_version, v.runtime_api_version)
        elif cmd == "run":
            pod = json.loads(args[0])
            r = rt.RunPodSandbox(api.RunPodSandboxRequest(config=sandbox_config(api, pod)),
                                 timeout=timeout)
            print(r.pod_sandbox_id)
        elif cmd == "status":
            r = rt.PodSandboxStatus(api.PodSandboxStatusRequest(pod_sandbox_id=args[0],
                                                                verbose=True), timeout=timeout)
            st = r.status
            print(json.dumps({
                "state": api.PodSandboxState.Name(st.state),
                "ip": st.network.ip,
                "additionalIps": [p.ip for p in st.network.additional_ips],
                "annotations": dict(st.annotations),
                "info": {k: json.loads(v) for k, v in r.info.items()},
            }))
        elif cmd == "stop":
            rt.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=args[0]), timeout=timeout)
        elif cmd == "remove":
            rt.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=args[0]),
                                timeout=timeout)
        elif cmd == "list":
            for item in rt.ListPodSandbox(api.ListPodSandboxRequest(), timeout=timeout).items:
                print(item.id)
        else:
            print("unknown command " + cmd, file=sys.stderr)
            return 2
    except grpc.RpcError as e:
        print("%s: %s: %s" % (cmd, e.code().name, e.details()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
