# SPDX-License-Identifier: Apache-2.0
# bash completion for ttbpf. Installed as
# share/bash-completion/completions/ttbpf (loaded on demand by the
# bash-completion package), or sourced by hand. It uses only bash's own
# compgen, so it works without the bash-completion package too.
# Every long option of `ttbpf --help` must appear here
# (tests/install/test_install.sh checks).

_ttbpf_report()
{
	local cur=$1 prev=$2
	case $prev in
	--svg | --png | --folded)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-o | --output)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--sort)
		COMPREPLY=($(compgen -W 'live peak allocated' -- "$cur"))
		return
		;;
	--folded-by | --folded-weight)
		COMPREPLY=($(compgen -W 'live peak allocated bytes count' -- "$cur"))
		return
		;;
	--top | --stack-lines)
		return # a number
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--svg --png -o --output --sort --folded --folded-by --top --stack-lines -h --help' -- "$cur"))
	else
		COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
	fi
}

_ttbpf_diff()
{
	local cur=$1 prev=$2
	case $prev in
	--folded)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--folded-by)
		COMPREPLY=($(compgen -W 'live peak allocated count' -- "$cur"))
		return
		;;
	--top)
		return # a number
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--folded --folded-by --top -h --help' -- "$cur"))
	else
		COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
	fi
}

_ttbpf()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i
	COMPREPLY=()

	if ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[1]} == report ]]; then
		_ttbpf_report "$cur" "$prev"
		return
	fi
	if ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[1]} == diff ]]; then
		_ttbpf_diff "$cur" "$prev"
		return
	fi
	# after `--`: the command, then its own arguments
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			if ((i == COMP_CWORD - 1)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(cd /proc 2>/dev/null && compgen -G '[0-9]*')" -- "$cur"))
		return
		;;
	-j | --json | --svg | --png | --folded | --pprof | -l | --lib)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-o | --output)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--folded-by)
		COMPREPLY=($(compgen -W 'live peak allocated count' -- "$cur"))
		return
		;;
	--folded-weight)
		COMPREPLY=($(compgen -W 'live peak bytes count' -- "$cur"))
		return
		;;
	--unwind)
		COMPREPLY=($(compgen -W 'dwarf fp' -- "$cur"))
		return
		;;
	--sort)
		COMPREPLY=($(compgen -W 'live peak allocated' -- "$cur"))
		return
		;;
	-d | --duration | -i | --interval | -b | --ringbuf-size | --wakeup-bytes | --stack-depth | \
		--max-live | --max-vars | --unwind-rows | --top | --stack-lines)
		return # a number
		;;
	--skip-frames)
		return # a regular expression
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-p --pid -j --json -o --output --svg --png
			--folded --folded-by --folded-weight --pprof -d --duration -i --interval -f --follow-forks -l --lib
			-b --ringbuf-size --wakeup-bytes --aggregate --max-live --max-vars
			--stack-depth --unwind --unwind-rows --top --sort --stack-lines --skip-frames
			--by-address -q --quiet -v --verbose
			-h --help -V --version --' -- "$cur"))
	elif ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W 'report diff' -- "$cur"))
	fi
}

complete -F _ttbpf ttbpf
